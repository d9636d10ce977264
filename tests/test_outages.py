"""A database that is locked or away is a clear message, never a 500 page or a traceback."""

import sqlite3
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client

from project import outages
from tests.voterroll_utils import center_with_voters
from voterroll import admin as voterroll_admin
from voterroll.models import RollRun

pytestmark = pytest.mark.django_db


def locked(*args, **kwargs):
    raise OperationalError("database is locked")


def test_a_page_that_meets_a_locked_database_says_so_with_503(admin_client, monkeypatch):
    center_with_voters(3)
    monkeypatch.setattr(voterroll_admin, "start_run", locked)

    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": "all_in_one"})

    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert "The database is busy, or away for a moment" in response.content.decode()
    assert not RollRun.objects.exists()


def test_an_outage_outside_a_view_gets_the_same_page_not_a_500(rf, monkeypatch):
    request = rf.get("/admin/")
    try:
        raise OperationalError("terminating connection due to administrator command")
    except OperationalError:
        monkeypatch.setattr(outages, "is_outage", lambda error: True)
        response = outages.server_error(request)

    assert response.status_code == 503


def test_other_database_errors_stay_errors(rf):
    try:
        raise ProgrammingError("relation voterroll_voter does not exist")
    except ProgrammingError:
        response = outages.server_error(rf.get("/"))

    assert response.status_code == 500


def test_queue_task_says_the_database_is_busy_instead_of_a_traceback(monkeypatch):
    center_with_voters(3)
    monkeypatch.setattr("voterroll.management.commands.queue_task.start_run", locked)

    with pytest.raises(CommandError, match=r"The database is busy .* nothing was changed; try again"):
        call_command("queue_task", "1")


def test_a_client_never_sees_a_traceback_page_for_a_lock(monkeypatch, django_user_model):
    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.create_superuser("boss", password="boss-password"))
    center_with_voters(3)
    monkeypatch.setattr(voterroll_admin, "start_run", locked)

    response = client.post("/admin/voterroll/rollrun/start/", {"option": "all_in_one"})

    assert response.status_code == 503 and b"Traceback" not in response.content


@pytest.mark.django_db(transaction=True)
def test_a_page_says_the_embedded_database_is_busy_after_the_web_timeout_not_thirty_seconds(admin_client):
    """Another process holds SQLite's write lock (fake data being replaced, say): a click that
    writes waits SQLITE_TIMEOUT seconds (make run's web: 5), then gets the busy page."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's lock: the PostgreSQL pass has no such wait")
    center_with_voters(3)
    options = connection.settings_dict["OPTIONS"]
    connection.close()
    options["timeout"] = 1  # as SQLITE_TIMEOUT=1 would make it
    holder = sqlite3.connect(connection.settings_dict["NAME"])
    holder.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": "all_in_one"})
        waited = time.monotonic() - began
    finally:
        holder.rollback()
        holder.close()
        connection.close()
        options["timeout"] = 30

    assert response.status_code == 503
    assert "The database is busy, or away for a moment" in response.content.decode()
    assert 1 <= waited < 5
    assert not RollRun.objects.exists()
