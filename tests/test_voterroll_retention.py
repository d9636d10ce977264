"""A run's rolls do not stay forever: beat deletes them after the retention, staff delete runs
with their rolls, and the admin says how much storage the rolls take."""

from datetime import timedelta

import pytest
from django.utils import timezone

from voterroll import files, retention, runs
from voterroll.models import RollRun
from voterroll.options import Option

pytestmark = pytest.mark.django_db


def ended_run(days_ago, status=RollRun.Status.FINISHED, rolls=2):
    """A run that ended ``days_ago`` days ago with ``rolls`` rolls of 100 bytes in storage."""
    ended = timezone.now() - timedelta(days=days_ago)
    run = RollRun.objects.create(
        option=Option.CHORD_BY_STATION,
        status=status,
        started_dt=ended - timedelta(seconds=5),
        finished_dt=None if status in RollRun.ACTIVE else ended,
        file_bytes=100 * rolls,
    )
    run.output_dir = f"voterroll/run-{run.pk}-retention"
    run.save()
    for station in range(1, rolls + 1):
        files.save(files.roll_name(run.output_dir, 7, station), b"%PDF".ljust(100, b"x"))
    return run


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.VOTERROLL_KEEP_FILES_DAYS = 30


def test_beat_deletes_the_rolls_of_runs_ended_before_the_retention_and_keeps_their_records():
    old, failed_old = ended_run(31), ended_run(45, RollRun.Status.FAILED)
    recent, running = ended_run(29), ended_run(60, RollRun.Status.RUNNING)

    assert retention.delete_expired_files() == 2

    assert old.rolls() == failed_old.rolls() == []
    assert len(recent.rolls()) == len(running.rolls()) == 2
    deleted = RollRun.objects.filter(files_deleted_dt__isnull=False)
    assert sorted(deleted.values_list("pk", flat=True)) == [old.pk, failed_old.pk]
    assert retention.delete_expired_files() == 0  # done once


def test_staff_delete_an_ended_run_with_its_rolls(admin_client):
    run, other = ended_run(1), ended_run(2)

    response = admin_client.post(f"/admin/voterroll/rollrun/{run.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not RollRun.objects.filter(pk=run.pk).exists()
    assert files.rolls(run.output_dir) == []
    assert len(other.rolls()) == 2


def test_an_active_run_cannot_be_deleted_nor_lose_its_rolls(admin_client):
    run = ended_run(0, RollRun.Status.RUNNING)

    assert admin_client.get(f"/admin/voterroll/rollrun/{run.pk}/delete/").status_code == 403
    with pytest.raises(runs.RunRefused, match="still running"):
        retention.delete_run(run)

    assert RollRun.objects.filter(pk=run.pk).exists() and len(run.rolls()) == 2


def test_bulk_delete_removes_ended_runs_with_their_rolls_and_refuses_a_batch_with_an_active_run(admin_client):
    ended, older, running = ended_run(1), ended_run(2), ended_run(0, RollRun.Status.RUNNING)
    delete = {"action": "delete_selected", "post": "yes"}

    refused = admin_client.post(
        "/admin/voterroll/rollrun/", {**delete, "_selected_action": [ended.pk, running.pk]}
    )
    assert refused.status_code == 403
    assert RollRun.objects.count() == 3 and len(ended.rolls()) == 2

    admin_client.post("/admin/voterroll/rollrun/", {**delete, "_selected_action": [ended.pk, older.pk]})
    assert list(RollRun.objects.values_list("pk", flat=True)) == [running.pk]
    assert ended.rolls() == older.rolls() == [] and len(running.rolls()) == 2


def test_the_run_list_shows_the_storage_each_run_and_all_runs_take(admin_client):
    ended_run(1, rolls=3)
    ended_run(2, rolls=2)
    gone = ended_run(40, rolls=5)
    retention.delete_expired_files()

    page = admin_client.get("/admin/voterroll/rollrun/").content.decode()

    assert "Rolls of finished runs take 500\xa0bytes in storage" in page
    assert "300\xa0bytes" in page and "deleted" in page
    assert f"/admin/voterroll/rollrun/{gone.pk}/files.zip" not in page  # nothing to download
