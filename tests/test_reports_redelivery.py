"""A task delivered again after its worker died (acks_late): the logs still tell what happened.

The worker's death is simulated in-process: the first run of an attempt never logs its end, as a
SIGKILLed process would not; the broker's redelivery is the plain work function called again.
"""

import itertools

import pytest
from django.urls import reverse

from reports import work
from reports.models import ReportChord, ReportGroup, Status
from reports.stories import MAX_RETRIES, attempt_story
from reports.timeline import render_timeline
from tests.reports_stories import IdRange


def report_whose(step, attempt, start=IdRange.REDELIVERY):
    """A saved group report (its canvas not sent) whose ``step`` attempt number ``attempt`` succeeds."""
    report_id = next(
        i for i in itertools.count(start) if attempt_story("group", step, i, attempt).error is None
    )
    ReportGroup.objects.bulk_create([ReportGroup(pk=report_id, is_celery_task_sent=True)])
    return ReportGroup.objects.get(pk=report_id)


def run_killed(monkeypatch, *args):
    """Run an attempt whose worker dies before it can log the attempt's end."""
    with monkeypatch.context() as killed:
        killed.setattr(work, "close_log", lambda log, *args: None)
        work.run_attempt(*args)


def test_a_redelivered_attempt_closes_the_log_its_killed_run_left_open(admin_client, monkeypatch):
    report = report_whose("medium", 0)

    run_killed(monkeypatch, "group", "medium", report.pk, 0)
    work.run_attempt("group", "medium", report.pk, 0)

    cut_short, redelivered = report.task_logs.all()
    assert (cut_short.retry, cut_short.status) == (0, Status.ERROR)
    assert cut_short.finished_dt is not None and cut_short.finished_dt <= redelivered.created_dt
    assert (redelivered.retry, redelivered.status) == (0, Status.FINISHED)
    assert report.step_outcomes()["medium"] == Status.FINISHED
    svg = render_timeline(report)
    assert 'class="attempt running"' not in svg  # no bar stretched to "now"
    assert "retry 0: Error (cut short, delivered again)" in svg and "retry 0: Finished," in svg
    changelist = admin_client.get(reverse("admin:reports_reportgroup_changelist")).content.decode()
    assert '<td class="field-attempts">1</td>' in changelist  # one attempt, run twice
    page = admin_client.get(reverse("admin:reports_reportgroup_change", args=[report.pk])).content.decode()
    assert cut_short.error == work.CUT_SHORT
    assert '<span class="attempt-failed">Failed: Cut short, delivered again</span>' in page


def test_a_last_retry_cut_short_does_not_settle_its_step_while_it_runs_again(monkeypatch, db):
    report = report_whose("long", MAX_RETRIES)

    run_killed(monkeypatch, "group", "long", report.pk, MAX_RETRIES)
    run_killed(monkeypatch, "group", "long", report.pk, MAX_RETRIES)  # the redelivery, still running

    cut_short, running = report.task_logs.all()
    assert (cut_short.status, running.status) == (Status.ERROR, Status.PROCESSING)
    assert report.step_outcomes()["long"] is None
    assert "long" in report.unsettled_steps()


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_a_callback_delivered_again_after_its_commit_logs_once(db, model):
    (report,) = model.objects.bulk_create([model(is_celery_task_sent=True)])

    work.run_callback(model.kind, "finished", report.pk, 0, "finished-task-id")
    work.run_callback(model.kind, "finished", report.pk, 0, "finished-task-id")

    assert [log.step for log in report.task_logs.all()] == ["finished"]
    assert model.objects.get(pk=report.pk).status == Status.FINISHED


def test_a_groups_errback_still_logs_once_per_failed_task(db):
    (report,) = ReportGroup.objects.bulk_create([ReportGroup(is_celery_task_sent=True)])

    for task_id in ("errback-of-medium", "errback-of-long", "errback-of-long"):
        work.run_callback("group", "error", report.pk, 0, task_id)

    assert [log.task_id for log in report.task_logs.all()] == ["errback-of-medium", "errback-of-long"]
    assert ReportGroup.objects.get(pk=report.pk).status == Status.ERROR
