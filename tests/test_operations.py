"""Celery operations: beat schedule, broker housekeeping, the admin account command."""

import json
import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from django_celery_results.models import TaskResult
from kombu import Connection

from project import broker
from project.broker import FilesystemTransport, ensure_folders, purge_processed_messages
from project.celery import app
from project.stack import broker_transport_options
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
    options = {"processed_folder": str(tmp_path)}

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


def test_embedded_broker_uses_the_transport_that_writes_messages_atomically(caplog):
    with app.connection_for_write() as connection:
        connection.info()  # what Celery's banner and producers read; kombu warned here
        atomic = isinstance(connection.transport, FilesystemTransport)
    assert atomic == settings.CELERY_BROKER_URL.startswith("filesystem://")
    assert not [record for record in caplog.records if record.levelname == "WARNING"]


def test_a_message_file_appears_in_the_queue_folder_only_complete(tmp_path, monkeypatch):
    options = broker_transport_options("filesystem://", tmp_path, polling_interval=0.1)
    ensure_folders(tmp_path, tmp_path / "media", options)
    queue_folder = options["data_folder_in"]
    renames = []

    def checked_replace(source, destination):
        if os.path.dirname(destination) == queue_folder:  # not the move to processed/ on ack
            # At the moment of the rename the queue holds no .msg file yet; the payload is whole.
            assert not [name for name in os.listdir(queue_folder) if name.endswith(".msg")]
            with open(source) as message:
                renames.append(json.load(message))
        os.rename(source, destination)

    monkeypatch.setattr(broker.os, "replace", checked_replace)
    with Connection("filesystem://", transport=FilesystemTransport, transport_options=options) as conn:
        queue = conn.SimpleQueue("atomic")
        queue.put({"n": 1})
        message = queue.get(timeout=1)
        message.ack()
        assert message.payload == {"n": 1}
        queue.close()
    assert len(renames) == 1
    assert not os.listdir(queue_folder)


def test_redis_visibility_timeout_outlasts_the_longest_task_and_retry_countdown():
    """Redis delivers again whatever is unacknowledged that long: a running task, or a retry
    waiting out its countdown (back-off is capped at 500 s)."""
    options = broker_transport_options("redis://127.0.0.1:6379/0", "var", polling_interval=0.1)
    app.loader.import_default_modules()
    longest = max(task.time_limit or settings.CELERY_TASK_TIME_LIMIT for task in app.tasks.values())
    assert options["visibility_timeout"] > longest + 500


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # as a worker does at start-up: autodiscovery
    missing = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    }
    assert not missing
    assert len(settings.CELERY_BEAT_SCHEDULE) >= 4  # housekeeping and each app's watchdog


@pytest.mark.django_db
def test_makesuperuser_creates_one_account_then_changes_nothing():
    first, second = StringIO(), StringIO()

    call_command("makesuperuser", stdout=first)
    password = printed_password(first.getvalue())
    admin = get_user_model().objects.get()
    call_command("makesuperuser", stdout=second)

    assert admin.is_superuser and admin.check_password(password)
    assert "exists" in second.getvalue() and password not in second.getvalue()
    assert get_user_model().objects.get().password == admin.password


def printed_password(output):
    """The password in makesuperuser's box: the line after the one announcing it, but one."""
    lines = output.splitlines()
    announced = next(n for n, line in enumerate(lines) if "shown only this once" in line)
    return lines[announced + 2].strip("| ")


@pytest.mark.django_db
def test_makesuperuser_prints_the_password_in_a_box_without_look_alike_characters():
    passwords = []
    for _ in range(20):
        get_user_model().objects.all().delete()
        out = StringIO()
        call_command("makesuperuser", stdout=out)
        passwords.append(printed_password(out.getvalue()))
        box = out.getvalue().strip().splitlines()

    assert box[0] == box[-1] and set(box[0]) == {"+", "-"}
    inside = box[1:-1]
    assert all(line.startswith("| ") and line.endswith("|") and len(line) == len(box[0]) for line in inside)
    assert all(len(password) == 16 and password.isalnum() for password in passwords)
    assert not set("".join(passwords)) & set("0Oo1lI")
    assert len(set(passwords)) == 20
    assert get_user_model().objects.get().check_password(passwords[-1])


@pytest.mark.django_db
def test_makesuperuser_refuses_a_taken_name_of_a_plain_user_and_changes_nothing():
    user = get_user_model().objects.create_user("admin", password="their-own")

    with pytest.raises(CommandError, match="exists but is not a superuser"):
        call_command("makesuperuser", stdout=StringIO())

    user.refresh_from_db()
    assert not user.is_superuser and user.check_password("their-own")


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "   ", "ad min", "a" * 151])
def test_makesuperuser_refuses_a_name_no_one_could_log_in_with(bad):
    with pytest.raises(CommandError, match="--username"):
        call_command("makesuperuser", username=bad, stdout=StringIO())

    assert not get_user_model().objects.exists()
