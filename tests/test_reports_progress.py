"""A report's page says what its tasks do while it runs, why they waited, why they failed, and who
created it: all read off what the tasks store."""

import io
import re

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from reports import work
from reports.activity import clock, step_states
from reports.models import ReportChord, ReportGroup, Status
from reports.stories import CONNECTIVITY_FAILURE, MAX_RETRIES, attempt_story
from tests.reports_stories import (
    IdRange,
    find_report_id,
    find_report_ids,
    long_and_sure,
    long_fails_for_good,
    predicted_story,
    quick,
    succeeds_first_time,
)
from tests.utils import wait_until


def change_url(report):
    return reverse(f"admin:reports_{report._meta.model_name}_change", args=[report.pk])


def settled(model, report_id, timeout=60):
    def report_if_settled():
        report = model.objects.get(pk=report_id)
        return None if report.is_in_progress() else report

    return wait_until(
        report_if_settled, timeout=timeout, interval=0.1, message=f"report {report_id} never settled"
    )


def test_tasks_that_wait_for_a_free_process_show_so_while_and_after_the_reports_run(worker, admin_client):
    # Six chords at once: 18 tasks, six of them about a second long, on the worker's 4 processes.
    ids = find_report_ids("chord", long_and_sure, start=IdRange.QUEUE_WAIT, count=6)
    with transaction.atomic():
        reports = [ReportChord.objects.create(pk=report_id) for report_id in ids]
    last = reports[-1]

    seen = set()

    def page_shows_running_long():
        page = admin_client.get(change_url(last)).content.decode()
        now = re.findall(r"<strong>long</strong>: (waiting in the queue|running) since", page)
        seen.update(now)
        if now == ["waiting in the queue"] and 'class="queue-wait queued"' in page:
            seen.add("its wait drawn as it grows")
        return "running" in seen

    wait_until(page_shows_running_long, timeout=30, interval=0.05, message="long never shown running")
    done = [settled(ReportChord, report_id) for report_id in ids]
    pages = [admin_client.get(change_url(report)).content.decode() for report in done]

    assert seen == {"waiting in the queue", "its wait drawn as it grows", "running"}
    waits = [
        float(width)
        for page in pages
        for width in re.findall(r'class="queue-wait queued" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', page)
    ]
    assert max(waits) > 100  # pixels: about a second of the axis's two or three
    sentences = [
        s
        for page in pages
        for s in re.findall(
            r"long \(attempt 1\) waited ([\d.]+) s in the queue for a free worker process", page
        )
    ]
    assert sentences and max(map(float, sentences)) >= 0.5
    assert all("ran at" in page and "<strong>finished</strong>" in page for page in pages)


def test_a_failed_attempt_says_why_on_its_row_and_when_its_retry_was_due(worker, admin_client):
    def case(story, report_id):
        medium = story["medium"]
        return (
            report_id % 5
            and len(medium) == 2
            and medium[0].error == CONNECTIVITY_FAILURE
            and succeeds_first_time(story["short"])
            and succeeds_first_time(story["long"])
            and quick(story, longest=1.5)
        )

    report_id = find_report_id("chord", case, start=IdRange.RETRY_WAIT)
    ReportChord.objects.create(pk=report_id)
    report = settled(ReportChord, report_id)

    failed, retried = (log for log in report.task_logs.all() if log.step == "medium")
    countdown = attempt_story("chord", "medium", report_id, 0).retry_countdown
    assert failed.error == CONNECTIVITY_FAILURE and retried.error == ""
    assert abs((failed.retry_due_dt - failed.finished_dt).total_seconds() - countdown) < 0.001
    assert retried.created_dt >= failed.retry_due_dt  # the worker kept the countdown
    # The page as it was between the two attempts: medium waits to retry, and says until when.
    between = failed.finished_dt + (failed.retry_due_dt - failed.finished_dt) / 2
    medium = dict((step, (state, text)) for step, state, text in step_states(report, now=between))["medium"]
    assert medium[0] == "retrying"
    assert f"waiting to retry until {clock(failed.retry_due_dt)}" in medium[1]
    assert CONNECTIVITY_FAILURE in medium[1]
    # And while medium's first attempt still worked: running, as the page said then.
    during = failed.created_dt + (failed.finished_dt - failed.created_dt) / 2
    medium = dict((step, (state, text)) for step, state, text in step_states(report, now=during))["medium"]
    assert medium == ("running", f"running since {clock(failed.created_dt)} (attempt 1 of 6)")
    page = admin_client.get(change_url(report)).content.decode()
    row = f"Failed: {CONNECTIVITY_FAILURE}</span>; retry due at {clock(failed.retry_due_dt)}"
    assert row in page and page.count('class="attempt-failed"') == 1


def test_a_report_that_ended_in_error_names_the_task_and_why_at_the_top(worker, admin_client):
    report_id = find_report_id("chord", long_fails_for_good, start=IdRange.FAILURE_NAMED)
    ReportChord.objects.create(pk=report_id)
    report = settled(ReportChord, report_id)

    page = admin_client.get(change_url(report)).content.decode()

    last_error = predicted_story("chord", report_id)["long"][-1].error
    top = page.split('<fieldset class="module')[0]
    assert report.status == Status.ERROR
    assert f"Error: long failed for good on attempt {MAX_RETRIES + 1}: {last_error}" in top
    assert page.count('class="attempt-failed"') == MAX_RETRIES + 1  # long's six attempts, not the errback
    assert "Ran: sets the report to Error" in page
    assert "<strong>error</strong>: ran at" in page


def test_an_attempt_past_its_time_limit_says_so_and_is_not_retried(db, monkeypatch):
    (report,) = ReportGroup.objects.bulk_create(
        [ReportGroup(pk=IdRange.FAILURE_NAMED - 1, is_celery_task_sent=True)]
    )

    def over_time(seconds):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(work.time, "sleep", over_time)
    with pytest.raises(SoftTimeLimitExceeded):
        work.run_attempt("group", "medium", report.pk, 0)

    (log,) = report.task_logs.all()
    assert log.status == Status.ERROR and log.retry_due_dt is None
    assert report.step_outcomes()["medium"] == Status.ERROR  # settled: no retry will come
    assert (
        log.error == "Time limit: ran past its soft time limit of 25.3 s"
    )  # 25 s + medium's 30 s at scale 0.01
    medium = dict((step, (state, text)) for step, state, text in step_states(report))["medium"]
    assert medium == ("failed", f"failed for good at {clock(log.finished_dt)} (attempt 1 of 6): {log.error}")


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_each_report_records_who_created_it_and_the_pages_show_it(
    admin_client, admin_user, sent, django_capture_on_commit_callbacks, model
):
    opts = model._meta
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse(f"admin:reports_{opts.model_name}_add"), {"_continue": "Save"})
        from_admin = model.objects.get()
        admin_client.post(reverse(f"admin:reports_{opts.model_name}_again", args=[from_admin.pk]))
        call_command("create_reports", kind=model.kind, count=1, stdout=io.StringIO())
    from_admin, again, from_command = model.objects.order_by("pk")

    changelist = admin_client.get(reverse(f"admin:reports_{opts.model_name}_changelist")).content.decode()
    page = admin_client.get(change_url(again)).content.decode()

    assert (from_admin.created_by, from_admin.created_from) == (admin_user, "admin")
    assert (again.created_by, again.created_from) == (admin_user, f"Run again of report {from_admin.pk}")
    assert (from_command.created_by, from_command.created_from) == (None, "create_reports")
    assert ">Created by<" in changelist
    for creator in ("admin (admin)", f"admin (Run again of report {from_admin.pk})", "create_reports"):
        assert f'<td class="field-creator">{creator}</td>' in changelist
    assert f'<div class="readonly">admin (Run again of report {from_admin.pk})</div>' in page
