"""Database use that throughput depends on: kept connections, tables reloaded in bulk."""

import pytest
from celery import group
from django.db import IntegrityError, connection, transaction

from project.db import reloading
from tests.tasks import database_connection
from tests.voterroll_utils import center_with_voters
from voterroll.models import StationAssignment
from voterroll.stations import assign_stations


def constraints_of(model):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: (
            tuple(info["columns"]),
            info["primary_key"],
            info["unique"],
            info["foreign_key"],
            info["index"],
        )
        for name, info in found.items()
    }


def test_a_worker_process_keeps_its_database_connection_from_task_to_task(worker):
    used = group(database_connection.s() for _ in range(40))().get(timeout=60)

    connections_by_process = {}
    for pid, connection_id in used:
        connections_by_process.setdefault(pid, set()).add(connection_id)
    assert all(len(ids) == 1 for ids in connections_by_process.values()), connections_by_process


def test_a_worker_reconnects_when_the_server_dropped_its_connection(worker):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite is a file: there is no server to drop a connection")
    before = group(database_connection.s() for _ in range(8))().get(timeout=60)
    with connection.cursor() as cursor:
        for _, server_pid in before:
            cursor.execute("SELECT pg_terminate_backend(%s)", [server_pid])

    after = group(database_connection.s() for _ in range(8))().get(timeout=60)

    assert {server_pid for _, server_pid in after}.isdisjoint(server_pid for _, server_pid in before)


@pytest.mark.django_db(transaction=True)
def test_reassigning_every_station_puts_back_every_index_and_key():
    center_with_voters(700)
    assign_stations()
    before = constraints_of(StationAssignment)

    assert assign_stations() == 700

    assert constraints_of(StationAssignment) == before
    with pytest.raises(IntegrityError), transaction.atomic():  # the voter key is checked again
        StationAssignment.objects.create(voter_id=10**9, center_id=1, station=1)


@pytest.mark.django_db(transaction=True)
def test_a_reload_that_fails_leaves_the_table_and_its_keys_as_they_were():
    center_with_voters(700)
    assign_stations()
    rows = sorted(StationAssignment.objects.values_list("voter_id", "station"))
    before = constraints_of(StationAssignment)

    with pytest.raises(RuntimeError), transaction.atomic(), reloading(StationAssignment):
        raise RuntimeError("the load failed")

    assert sorted(StationAssignment.objects.values_list("voter_id", "station")) == rows
    assert constraints_of(StationAssignment) == before
