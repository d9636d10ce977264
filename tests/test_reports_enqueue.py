"""A report's canvas is sent once, after commit; the command and the watchdog around it."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from kombu import Connection, pools

from project.celery import app
from reports.models import REPORT_MODELS, ReportChord, ReportGroup, Status
from reports.work import fail_stalled
from tests.utils import manage


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_a_new_report_sends_its_canvas_once_after_the_commit(transactional_db, sent, model):
    with transaction.atomic():
        report = model.objects.create()
        report.save()
        assert sent == []  # not before the commit

    assert sent == [(model.kind, report.pk)]
    assert model.objects.get(pk=report.pk).is_celery_task_sent


def save_then_fail():
    with transaction.atomic():
        ReportChord.objects.create()
        raise RuntimeError("the request failed after the save")


def test_a_rolled_back_report_sends_nothing(transactional_db, sent):
    with pytest.raises(RuntimeError):
        save_then_fail()

    assert sent == []
    assert not ReportChord.objects.exists()


def test_concurrent_saves_of_the_same_report_send_one_canvas(transactional_db, sent):
    (report,) = ReportChord.objects.bulk_create([ReportChord()])  # saved without a send
    copies = [ReportChord.objects.get(pk=report.pk) for _ in range(2)]  # both see it unsent
    start = threading.Barrier(len(copies))
    errors = []

    def save(copy):
        try:
            start.wait()
            with transaction.atomic():
                copy.save()
                threading.Event().wait(0.2)  # hold the transaction open: the other save waits
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sent == [("chord", report.pk)]
    assert ReportChord.objects.get(pk=report.pk).is_celery_task_sent


def test_saving_a_stale_copy_does_not_undo_the_tasks_work(transactional_db, sent):
    report = ReportGroup.objects.create()
    stale = ReportGroup.objects.get(pk=report.pk)
    ReportGroup.objects.filter(pk=report.pk).update(status=Status.FINISHED)

    stale.save()

    assert ReportGroup.objects.get(pk=report.pk).status == Status.FINISHED
    assert len(sent) == 1


@pytest.fixture
def unreachable_broker(monkeypatch):
    """The app publishes to a port where no broker listens, and gives up at the first refusal."""
    connection = Connection("amqp://guest:guest@127.0.0.1:1//", transport_options={"max_retries": 0})
    monkeypatch.setattr(app.amqp, "_producer_pool", pools.producers[connection])
    monkeypatch.setitem(app.conf, "task_publish_retry", False)


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_a_report_whose_canvas_the_broker_refuses_is_marked_error_at_once(
    transactional_db, unreachable_broker, caplog, model
):
    report = model.objects.create()

    saved = model.objects.get(pk=report.pk)
    assert (saved.status, saved.is_celery_task_sent) == (Status.ERROR, False)
    assert (report.status, report.is_celery_task_sent) == (Status.ERROR, False)
    assert f"{report}: the broker refused its canvas; marked Error" in caplog.text
    assert "Connection refused" in caplog.text


def test_create_reports_says_so_when_the_broker_refuses_the_canvases(transactional_db, unreachable_broker):
    with pytest.raises(CommandError, match="the broker refused 2 canvas"):
        call_command("create_reports", kind="chord", count=2)

    assert list(ReportChord.objects.values_list("status", flat=True)) == [Status.ERROR] * 2


@pytest.mark.parametrize("kind", ["group", "chord"])
def test_create_reports_creates_and_sends_count_reports(transactional_db, sent, kind, capsys):
    call_command("create_reports", kind=kind, count=3)

    assert REPORT_MODELS[kind].objects.count() == 3
    assert len(sent) == 3
    assert f"Created 3 {kind} report(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--kind", "group", "--count", "0"], "must be a whole number from 1 to 1,000, not '0'"),
        (["--kind", "group", "--count", "-2"], "must be a whole number from 1 to 1,000, not '-2'"),
        (["--kind", "group", "--count", "many"], "must be a whole number from 1 to 1,000, not 'many'"),
        (
            ["--kind", "group", "--count", str(10**12)],
            "must be a whole number from 1 to 1,000, not '1000000000000'",
        ),
        (["--kind", "starmap"], "invalid choice: 'starmap'"),
        (["--count", "2"], "the following arguments are required: --kind"),
    ],
)
def test_create_reports_refuses_bad_arguments(transactional_db, sent, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_reports", *arguments)

    assert sent == []
    assert not ReportGroup.objects.exists()


def test_create_reports_exits_non_zero_with_the_reason_on_the_command_line():
    env = {"DJANGO_CONFIGURATION": "Test", "TEST_VAR_DIR": str(settings.VAR_DIR)}
    result = manage("create_reports", "--kind", "group", "--count", "zero", env=env)

    assert result.returncode != 0
    assert "--count: must be a whole number from 1 to 1,000, not 'zero'" in result.stderr


def test_watchdog_marks_error_only_the_reports_that_did_nothing_for_the_setting(transactional_db, sent):
    old = timezone.now() - timedelta(seconds=settings.REPORTS_STALLED_AFTER + 60)
    stalled_group, stalled_chord, long_story, finished = (
        ReportGroup.objects.create(),
        ReportChord.objects.create(),
        ReportGroup.objects.create(),
        ReportGroup.objects.create(status=Status.FINISHED),
    )
    for report in (stalled_group, stalled_chord, long_story, finished):
        type(report).objects.filter(pk=report.pk).update(created_dt=old)
    lost = stalled_group.task_logs.create(task_name="report_group_long")  # worker and message gone
    stalled_group.task_logs.filter(pk=lost.pk).update(created_dt=old)
    # Created long ago, but its long task is still at it: the old watchdog, counting from the
    # report's creation, failed it.
    running = long_story.task_logs.create(task_name="report_group_long")

    assert fail_stalled() == 2

    assert ReportGroup.objects.get(pk=stalled_group.pk).status == Status.ERROR
    assert ReportChord.objects.get(pk=stalled_chord.pk).status == Status.ERROR
    assert ReportGroup.objects.get(pk=long_story.pk).status == Status.PROCESSING
    assert ReportGroup.objects.get(pk=finished.pk).status == Status.FINISHED
    lost.refresh_from_db()
    running.refresh_from_db()
    assert (lost.status, running.status) == (Status.ERROR, Status.PROCESSING) and lost.finished_dt
    error = ReportGroup.objects.get(pk=stalled_group.pk).error
    assert error.startswith("Stalled: nothing happened since") and "run it again" in error


def test_a_stalled_report_page_says_why_and_offers_to_run_it_again(admin_client, transactional_db, sent):
    report = ReportChord.objects.create()
    old = timezone.now() - timedelta(seconds=settings.REPORTS_STALLED_AFTER + 60)
    ReportChord.objects.filter(pk=report.pk).update(created_dt=old)

    page = admin_client.get(f"/admin/reports/reportchord/{report.pk}/change/").content.decode()
    response = admin_client.post(f"/admin/reports/reportchord/{report.pk}/again/")

    assert "Stalled: nothing happened since" in page and "Run again</button>" in page
    assert 'http-equiv="refresh"' not in page
    again = ReportChord.objects.exclude(pk=report.pk).get()
    assert response.status_code == 302 and response.url == f"/admin/reports/reportchord/{again.pk}/change/"
    assert sent == [("chord", report.pk), ("chord", again.pk)]


def test_a_report_page_checks_its_own_report_and_leaves_the_others_to_beat(
    admin_client, transactional_db, sent
):
    """Under a backlog of thousands, every view reading every quiet report and the broker's
    every message took seconds."""
    old = timezone.now() - timedelta(seconds=settings.REPORTS_STALLED_AFTER + 60)
    viewed, other, group = (
        ReportChord.objects.create(),
        ReportChord.objects.create(),
        ReportGroup.objects.create(),
    )
    for report in (viewed, other, group):
        type(report).objects.filter(pk=report.pk).update(created_dt=old)

    admin_client.get(f"/admin/reports/reportchord/{viewed.pk}/change/")

    assert ReportChord.objects.get(pk=viewed.pk).status == Status.ERROR
    assert ReportChord.objects.get(pk=other.pk).status == Status.PROCESSING
    assert ReportGroup.objects.get(pk=group.pk).status == Status.PROCESSING
    assert fail_stalled() == 2  # beat's look: every report
