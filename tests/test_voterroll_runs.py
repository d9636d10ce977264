"""A run's life: only the task that claims a queued run works on it; an outcome, once recorded, stays."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.voterroll_utils import center_with_voters, printed_numbers, roll_names
from voterroll.fake_data import replace_voter_data
from voterroll.models import PollingCenter, StationAssignment
from voterroll.options import Option
from voterroll.runs import create_run, fail_run, finish_run, mark_running
from voterroll.stations import assign_stations, station_voters, stations_of
from voterroll.tasks import all_in_one
from voterroll.units import CenterRef, StationRef
from voterroll.writing import write_station, write_stations

pytestmark = pytest.mark.django_db


def test_an_option_task_whose_run_was_failed_meanwhile_does_no_work(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    center_with_voters(3)
    run = create_run(Option.ALL_IN_ONE)
    fail_run(run.pk, "Stalled: failed by the watchdog")

    all_in_one(run.pk)  # the message arrives late; called here in-process, no canvas involved

    run.refresh_from_db()
    assert (run.status, run.error, run.tasks) == ("failed", "Stalled: failed by the watchdog", 0)
    assert not StationAssignment.objects.exists()
    assert not run.rolls()


def test_another_task_cannot_start_a_started_run_but_its_own_task_delivered_again_goes_on():
    center_with_voters(3)
    run = create_run(Option.CHORD_BY_STATION)

    first = mark_running(run.pk, "task-1")
    other = mark_running(run.pk, "task-2")
    again = mark_running(run.pk, "task-1")  # its worker died before acknowledging it

    assert first.status == "running" and other is None
    assert again.pk == run.pk and again.started_dt == first.started_dt
    run.refresh_from_db()
    assert (run.status, run.tasks, run.task_id) == ("running", 1, "task-1")
    fail_run(run.pk, "Stalled")
    assert mark_running(run.pk, "task-1") is None  # once it has ended, not even its own task


def test_finishing_a_run_that_was_failed_meanwhile_keeps_the_failure():
    center = center_with_voters(3)
    run = mark_running(create_run(Option.CHORD_BY_STATION).pk, "task-1")
    fail_run(run.pk, "Stalled: failed by the watchdog")

    assert (
        finish_run(run.pk, [{"center": center.pk, "stations": 1, "pages": 2, "stations_listed": []}], bars=[])
        is None
    )

    run.refresh_from_db()
    assert (run.status, run.error, run.pages) == ("failed", "Stalled: failed by the watchdog", 0)
    assert PollingCenter.objects.get().rolls_written_dt is None


@pytest.mark.django_db(transaction=True)  # two connections: each must see the other's commits
def test_a_run_started_while_fake_data_is_replaced_waits_until_the_new_data_is_committed():
    replace_voter_data(20)
    started = {}

    def start_run():
        try:
            started["run"] = create_run(Option.CHORD_BY_STATION)
        finally:
            connection.close()

    racer = threading.Thread(target=start_run)

    def progress(rows):
        if racer.ident is None:  # the old voters are deleted, the new ones not yet committed
            racer.start()
            racer.join(timeout=1)
            started["blocked"] = racer.is_alive()

    replace_voter_data(30, seed=2, progress=progress)
    racer.join(timeout=30)

    assert started["blocked"], "a run was created while the voter data was being replaced"
    assert started["run"].status == "queued"


def test_a_unit_of_a_run_that_has_ended_writes_nothing_even_when_new_data_reuses_its_keys(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    center_with_voters(3)
    run = mark_running(create_run(Option.CHORD_BY_STATION).pk, "task-1")
    assign_stations()
    old_center = PollingCenter.objects.get()
    # While it runs, it writes.
    assert write_station(run.pk, StationRef(CenterRef.of(old_center), 1))["pages"] == 2
    fail_run(run.pk, "Stalled")
    replace_voter_data(30, seed=2)  # a message of the old run names a center of the new data

    new_center = PollingCenter.objects.get()
    assert write_station(run.pk, StationRef(CenterRef.of(new_center), 1)) is None
    assert roll_names(run) == [f"center_{old_center.number}_1.pdf"]


def test_a_chunk_reads_the_voters_of_all_its_stations_in_one_statement(settings, tmp_path):
    """Option 5c's unit: what each station would print alone, for one query in all."""
    settings.MEDIA_ROOT = tmp_path
    centers = {
        center.pk: center
        for center in (
            center_with_voters(1200, number=1, first_pk=1),
            center_with_voters(700, number=2, first_pk=10_001, gender="M"),
        )
    }
    run = mark_running(create_run(Option.CHORD_OF_CHUNKS).pk, "task-1")
    assign_stations()
    chunk = [StationRef(CenterRef.of(centers[s.center_pk]), s.station) for s in stations_of()]
    assert len(chunk) == 5

    with CaptureQueriesContext(connection) as queries:
        tallies = write_stations(run.pk, chunk)

    voter_reads = [query for query in queries.captured_queries if '"voterroll_voter"' in query["sql"]]
    assert len(voter_reads) == 1
    assert [tally["stations_listed"][0]["voters"] for tally in tallies] == [400, 400, 400, 350, 350]
    printed = printed_numbers(run)
    for center, station in chunk:
        expected = [number for number, _, _ in station_voters(center.pk, station)]
        assert printed[f"center_{center.number}_{station}.pdf"] == expected
