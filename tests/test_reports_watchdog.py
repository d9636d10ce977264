"""The report watchdog tells lost from waiting, against a real worker.

A report quiet for REPORTS_STALLED_AFTER seconds is given up on only when none of its tasks is
left in the queue or with a worker; a backlog longer than the limit fails none, and a callback
that comes after a wrong verdict has the last word.
"""

import base64
import itertools
import json
import os
import socket
import time
from pathlib import Path

import pytest
from celery import signature
from django.conf import settings

from project.held import held_tasks
from reports.models import REPORT_MODELS, ReportChord, Status
from reports.stories import task_name
from reports.work import fail_stalled, fail_stalled_report
from tests.reports_stories import IdRange, find_report_id, predicted_outcome, predicted_story, quick, settled
from tests.tasks import echo
from tests.utils import wait_until

# Enough that the last ones wait in the queue for several times the limit below.
REPORTS_PER_KIND = 25
STALLED_AFTER = 1


def quiet_spells(report):
    """Seconds between the report's creation and each of its logs' steps, in order."""
    moments = sorted(
        [report.created_dt, *(log.created_dt for log in report.task_logs.all())]
        + [log.finished_dt for log in report.task_logs.all() if log.finished_dt]
    )
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments)]


def test_a_backlog_longer_than_the_stall_limit_fails_no_report(worker, settings):
    settings.REPORTS_STALLED_AFTER = STALLED_AFTER
    reports = []
    for kind in REPORT_MODELS:
        start = IdRange.BACKLOG
        for _ in range(REPORTS_PER_KIND):
            report_id = find_report_id(kind, lambda story, i: quick(story, longest=1.5), start=start)
            reports.append((kind, report_id))
            start = report_id + 1
    for kind, report_id in reports:
        REPORT_MODELS[kind].objects.create(pk=report_id)

    verdicts = 0
    while any(REPORT_MODELS[kind].objects.get(pk=report_id).is_in_progress() for kind, report_id in reports):
        verdicts += fail_stalled()  # as beat and every view of a report page do
        time.sleep(0.1)

    assert verdicts == 0
    longest = 0.0
    for kind, report_id in reports:
        report = settled(REPORT_MODELS[kind], report_id)
        status, callbacks = predicted_outcome(kind, report_id)
        ran = {step: sum(log.step == step for log in report.task_logs.all()) for step in callbacks}
        assert (report.status, ran, report.error) == (status, callbacks, ""), f"{kind} report {report_id}"
        longest = max(longest, *quiet_spells(report))
    assert longest > 2 * STALLED_AFTER  # the backlog was real: the old watchdog failed these


def test_a_report_whose_tasks_were_lost_is_ended_with_its_reason(worker, settings, sent):
    """Its canvas never reached the broker (`sent` keeps it), and a worker died mid-attempt."""
    settings.REPORTS_STALLED_AFTER = STALLED_AFTER
    report = ReportChord.objects.create()
    report.task_logs.create(task_name=task_name("chord", "long"))
    time.sleep(STALLED_AFTER + 0.1)

    assert fail_stalled() == 1

    report.refresh_from_db()
    assert report.status == Status.ERROR and not report.is_in_progress()
    assert report.error.startswith("Stalled: nothing happened since")
    assert "none of its tasks is left in the queue or with a worker" in report.error
    assert not report.task_logs.filter(finished_dt=None).exists()


def test_a_report_whose_retry_waits_for_its_countdown_is_alive(worker, settings, sent):
    """The retry's message is in the worker's hands until its countdown ends."""
    settings.REPORTS_STALLED_AFTER = STALLED_AFTER
    report = ReportChord.objects.create()
    retry = signature(task_name("chord", "medium"), kwargs={"report_id": report.pk})
    retry.apply_async(countdown=10)
    wait_until(
        lambda: (task_name("chord", "medium"), [], {"report_id": report.pk}) in (held_tasks() or []),
        timeout=10,
        message="the worker never took the retry",
    )
    time.sleep(STALLED_AFTER + 0.1)

    assert fail_stalled() == 0
    report.refresh_from_db()
    assert report.status == Status.PROCESSING and report.error == ""


def test_a_callback_after_a_wrong_verdict_has_the_last_word(worker):
    report_id = find_report_id(
        "chord",
        lambda story, i: (
            i % 5 and quick(story, longest=1.0) and all(a[-1].error is None for a in story.values())
        ),
        start=IdRange.LATE_CALLBACK,
    )
    report = ReportChord.objects.create(pk=report_id)
    fail_stalled_report(report)  # what the old watchdog did to a report waiting in a backlog
    assert ReportChord.objects.get(pk=report_id).status == Status.ERROR

    wait_until(
        lambda: report.task_logs.filter(task_name=task_name("chord", "finished")).exists(),
        timeout=60,
        message="the chord's callback never ran",
    )

    report.refresh_from_db()
    assert (report.status, report.error) == (Status.FINISHED, "")
    assert predicted_outcome("chord", report_id)[0] == Status.FINISHED
    assert all(attempts[-1].error is None for attempts in predicted_story("chord", report_id).values())


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"), reason="the filesystem broker's own folders"
)
def test_the_filesystem_broker_counts_what_live_consumers_hold_not_what_dead_ones_left(worker):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    message = echo.apply_async(("held",), countdown=30)  # taken by the worker, held until then

    def claim():
        for folder in Path(options["claimed_folder"]).iterdir():
            for path in folder.iterdir():
                if message.id in path.read_text():
                    return path

    claimed = wait_until(claim, timeout=10, message="the worker never took the message")
    dead = Path(options["claimed_folder"]) / f"{socket.gethostname()}-{2**22 + 12345}"
    dead.mkdir()
    try:
        payload = json.loads(claimed.read_text())
        _, kwargs, embed = json.loads(base64.b64decode(payload["body"]))
        payload["body"] = base64.b64encode(
            json.dumps([["left by the dead"], kwargs, embed]).encode()
        ).decode()
        (dead / claimed.name).write_text(json.dumps(payload))

        held = held_tasks()

        assert ("tests.tasks.echo", ["held"], {}) in held
        assert ("tests.tasks.echo", ["left by the dead"], {}) not in held
        assert all(name.endswith(f".{queue}.msg") for name in os.listdir(dead))
    finally:
        for path in dead.iterdir():
            path.unlink()
        dead.rmdir()
