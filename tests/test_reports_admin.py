"""The reports' admin pages and their timeline picture."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from project.charts import tick_step
from reports.activity import clock
from reports.models import ReportChord, ReportGroup, Status
from reports.stories import MAX_RETRIES
from reports.timeline import render_timeline


def make_report(model, status, attempts):
    """A report and its logs as the tasks would have written them: (step, retry, status, start, end).

    A failed attempt before the last is retried 0.1 s after its end.
    """
    (report,) = model.objects.bulk_create([model(status=status, is_celery_task_sent=True)])
    created = timezone.now() - timedelta(seconds=5)
    model.objects.filter(pk=report.pk).update(created_dt=created)
    for step, retry, log_status, start, end in attempts:
        log = report.task_logs.create(task_name=f"report_{model.kind}_{step}", retry=retry, status=log_status)
        retried = log_status == Status.ERROR and retry < MAX_RETRIES and end is not None
        report.task_logs.filter(pk=log.pk).update(
            created_dt=created + timedelta(seconds=start),
            finished_dt=None if end is None else created + timedelta(seconds=end),
            retry_due_dt=created + timedelta(seconds=end + 0.1) if retried else None,
        )
    return model.objects.get(pk=report.pk)


FINISHED, ERROR, PROCESSING = Status.FINISHED, Status.ERROR, Status.PROCESSING
GROUP_STORY = [  # finished runs after short, while medium and long still work
    ("short", 0, FINISHED, 0.0, 0.5),
    ("medium", 0, ERROR, 0.0, 1.0),
    ("long", 0, FINISHED, 0.0, 3.0),
    ("finished", 0, FINISHED, 0.6, 0.6),
    ("medium", 1, FINISHED, 1.4, 2.0),
]
CHORD_STORY = [  # finished runs once all three are done
    ("short", 0, FINISHED, 0.0, 0.5),
    ("medium", 0, FINISHED, 0.0, 1.0),
    ("long", 0, ERROR, 0.0, 1.5),
    ("long", 1, FINISHED, 2.0, 3.0),
    ("finished", 0, FINISHED, 3.1, 3.1),
]


def bar_ends(svg, outcome):
    bars = re.findall(rf'class="attempt {outcome}" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    return [float(x) + float(width) for x, width in bars]


def marker_positions(svg, callback):
    return [float(x) for x in re.findall(rf'class="marker-{callback}" x1="([\d.]+)"', svg)]


def test_group_timeline_shows_finished_firing_before_the_last_attempt_ends(db):
    svg = render_timeline(make_report(ReportGroup, FINISHED, GROUP_STORY))

    (finished_at,) = marker_positions(svg, "finished")
    assert svg.startswith("<svg") and svg.count('class="attempt ') == 4
    assert len(bar_ends(svg, "done")) == 3 and len(bar_ends(svg, "failed")) == 1
    assert finished_at < max(bar_ends(svg, "done"))
    for label in ("short", "medium", "long", "attempt succeeded", "attempt failed", "seconds since"):
        assert f">{label}" in svg


def test_chord_timeline_shows_finished_firing_after_every_attempt(db):
    svg = render_timeline(make_report(ReportChord, FINISHED, CHORD_STORY))

    (finished_at,) = marker_positions(svg, "finished")
    assert svg.count('class="attempt ') == 4
    assert finished_at >= max(bar_ends(svg, "done") + bar_ends(svg, "failed"))
    assert ">3<" in svg  # the seconds axis reaches past the last event


def test_timeline_draws_a_running_attempt_up_to_now(db):
    report = make_report(ReportChord, PROCESSING, [("short", 0, PROCESSING, 0.0, None)])

    svg = render_timeline(report)

    assert len(bar_ends(svg, "running")) == 1 and not marker_positions(svg, "finished")


@pytest.mark.parametrize(("span", "step"), [(0.35, 0.05), (3.1, 0.5), (42, 10), (600, 100)])
def test_axis_ticks_are_round_numbers_of_seconds(span, step):
    assert tick_step(span) == pytest.approx(step)


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_changelist_shows_each_report_and_filters_by_status(admin_client, model):
    done = make_report(model, FINISHED, GROUP_STORY if model is ReportGroup else CHORD_STORY)
    running = make_report(model, PROCESSING, [("short", 0, PROCESSING, 0.0, None)])
    url = reverse(f"admin:reports_{model._meta.model_name}_changelist")

    page = admin_client.get(url).content.decode()
    finished_only = admin_client.get(url, {"status__exact": FINISHED}).content.decode()

    for heading in ("ID", "Kind", "Status", "Created", "Duration", "Attempts"):
        assert f">{heading}<" in page
    assert timezone.localtime(done.created_dt).strftime("%Y-%m-%d %H:%M:%S") in page
    assert ">4<" in page and ">running<" in page  # done's attempts; running's duration
    assert f"/{done.pk}/change/" in finished_only and f"/{running.pk}/change/" not in finished_only


def test_change_page_is_read_only_and_refreshes_while_the_report_runs(admin_client):
    running = make_report(ReportGroup, FINISHED, GROUP_STORY[:4])  # finished ran; medium retries
    url = reverse("admin:reports_reportgroup_change", args=[running.pk])

    page = admin_client.get(url).content.decode()

    assert '<meta http-equiv="refresh"' in page
    assert "<svg" in page and "while medium and long were still running" in page
    assert page.count("report_group_") >= 4 and 'name="_save"' not in page
    assert 'name="reportgrouptasklog_set-0-task_name"' not in page  # no editable inline
    assert admin_client.post(url, {}).status_code == 403


@pytest.mark.parametrize(("model", "story"), [(ReportGroup, GROUP_STORY), (ReportChord, CHORD_STORY)])
def test_change_page_stops_refreshing_once_nothing_can_change(admin_client, model, story):
    report = make_report(model, FINISHED, story)

    page = admin_client.get(reverse(f"admin:reports_{model._meta.model_name}_change", args=[report.pk]))

    assert page.status_code == 200 and b'http-equiv="refresh"' not in page.content
    assert b"\xe2\x80\x9cerror\xe2\x80\x9d ran 0 times" in page.content


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_save_and_continue_on_the_empty_add_page_creates_the_report_and_sends_it(
    admin_client, sent, django_capture_on_commit_callbacks, model
):
    url = reverse(f"admin:reports_{model._meta.model_name}_add")
    add_page = admin_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"_continue": "Save and continue editing"})

    report = model.objects.get()
    form = add_page.split('id="content-main"')[1].split('class="submit-row"')[0]
    assert 'value="Save and continue editing"' in add_page
    assert "Saving creates the report" in form
    assert not re.search(r"<(input|select|textarea)(?! type=\"hidden\")", form)
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:reports_{model._meta.model_name}_change", args=[report.pk])
    assert sent == [(model.kind, report.pk)] and report.status == Status.PROCESSING


def test_change_page_refreshes_until_the_errback_a_failed_task_owes_has_run(admin_client):
    long_fails_for_good = [("long", retry, ERROR, retry * 0.2, retry * 0.2 + 0.1) for retry in range(6)]
    story = [
        ("short", 0, FINISHED, 0.0, 0.1),
        ("finished", 0, FINISHED, 0.2, 0.2),
        ("medium", 0, FINISHED, 0.0, 0.5),
    ]
    report = make_report(ReportGroup, FINISHED, story + long_fails_for_good)
    url = reverse("admin:reports_reportgroup_change", args=[report.pk])

    before = admin_client.get(url).content
    report.task_logs.create(task_name="report_group_error", status=FINISHED, finished_dt=timezone.now())
    ReportGroup.objects.filter(pk=report.pk).update(status=ERROR)
    after = admin_client.get(url).content

    assert b'http-equiv="refresh"' in before
    assert b'http-equiv="refresh"' not in after and b"\xe2\x80\x9cerror\xe2\x80\x9d ran 1 time." in after


def test_change_page_shows_a_task_waiting_to_retry_until_its_due_time(admin_client):
    report = make_report(
        ReportChord, PROCESSING, [("short", 0, FINISHED, 0.0, 0.5), ("medium", 0, ERROR, 0.0, 1.0)]
    )
    failed = report.task_logs.get(task_name="report_chord_medium")
    due = timezone.now() + timedelta(seconds=60)  # a back-off at full scale
    report.task_logs.filter(pk=failed.pk).update(retry_due_dt=due, error="API Connectivity Failure")

    page = admin_client.get(reverse("admin:reports_reportchord_change", args=[report.pk])).content.decode()

    assert '<meta http-equiv="refresh"' in page
    assert re.search(
        rf'<li class="task-retrying"><strong>medium</strong>: waiting to retry until {clock(due)} '
        r"\(in 5\d\.\d\d s\), after attempt 1 of 6 failed: API Connectivity Failure</li>",
        page,
    )
    assert '<li class="task-done"><strong>short</strong>: done at' in page
    assert '<li class="task-queued"><strong>long</strong>: waiting in the queue since' in page
    assert (
        '<li class="task-pending"><strong>finished</strong>: runs once all three tasks succeed</li>' in page
    )
