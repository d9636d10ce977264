"""Celery operations: beat schedule, broker housekeeping, the admin account command."""
import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from django_celery_results.models import TaskResult

from project.broker import ensure_folders, purge_processed_messages
from project.celery import app
from project.settings import broker_transport_options
from tests.utils import wait_until


def test_beat_schedule_from_settings_is_synced_and_a_due_task_is_sent(worker):
    DatabaseScheduler(app=app)  # what `celery beat` does at start-up
    synced = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(settings.CELERY_BEAT_SCHEDULE) <= synced

    PeriodicTask.objects.filter(name="purge-processed-broker-messages").update(
        last_run_at=timezone.now() - timedelta(days=1)
    )
    DatabaseScheduler(app=app).tick()

    task_name = "project.tasks.purge_processed_broker_messages"
    result = wait_until(
        lambda: TaskResult.objects.filter(task_name=task_name, status="SUCCESS").first(),
        message="beat's due task never ran on the worker",
    )
    assert result.periodic_task_name == "purge-processed-broker-messages"


def test_purge_deletes_only_processed_messages_older_than_retention(tmp_path):
    old, new = tmp_path / "old.msg", tmp_path / "new.msg"
    old.write_text("{}")
    new.write_text("{}")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    options = {"store_processed": True, "processed_folder": str(tmp_path)}

    assert purge_processed_messages(options, older_than=60) == 1
    assert not old.exists() and new.exists()
    assert purge_processed_messages({}, older_than=60) == 0


def test_filesystem_broker_folders_are_absolute_and_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative folder would land here
    options = broker_transport_options("filesystem://", "var", polling_interval=0.1)
    ensure_folders(tmp_path / "var", tmp_path / "media", options)

    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        assert os.path.isabs(options[key]) and os.path.isdir(options[key]), key
    # Claiming a message renames it into processed/: atomic only on the same filesystem.
    assert os.path.dirname(options["processed_folder"]) == os.path.dirname(options["data_folder_in"])


def test_redis_broker_gets_a_visibility_timeout_longer_than_any_retry_countdown():
    options = broker_transport_options("redis://127.0.0.1:6379/0", "var", polling_interval=0.1)
    assert options["visibility_timeout"] > 500 * 5


@pytest.mark.django_db
def test_makesuperuser_creates_one_account_then_changes_nothing():
    first, second = StringIO(), StringIO()

    call_command("makesuperuser", stdout=first)
    password = first.getvalue().split("Password (shown only this once): ")[1].strip()
    admin = get_user_model().objects.get()
    call_command("makesuperuser", stdout=second)

    assert admin.is_superuser and admin.check_password(password)
    assert "exists" in second.getvalue() and password not in second.getvalue()
    assert get_user_model().objects.get().password == admin.password
