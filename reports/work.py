"""What the report tasks do, as plain functions: the tasks only call these and retry."""

import logging
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from project.held import held_tasks

from .models import CALLBACK_STEPS, REPORT_MODELS, WORK_STEPS, Status
from .stories import MAX_RETRIES, attempt_story, task_name, work_time_limits

logger = logging.getLogger(__name__)


# What an attempt's row says when its worker process died mid-attempt and its message came back.
CUT_SHORT = "Cut short (its worker process died) and delivered again"


class DemoApiError(Exception):
    """The failure a demo task simulates: the external API it stands for let it down."""


def failure_reason(exc, step):
    """What a failed attempt's row says: the demo's error, a time limit, or the exception."""
    if isinstance(exc, DemoApiError):
        return str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"Time limit: ran past its soft time limit of {work_time_limits(step)['soft_time_limit']:g} s"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def run_attempt(kind, step, report_id, attempt):
    """Do one attempt of a work step and log it; raise DemoApiError when its story says it fails.

    Returns the seconds worked, or None when the report no longer exists.
    """
    report_model = REPORT_MODELS[kind]
    if not report_model.objects.filter(pk=report_id).exists():
        logger.warning("%s report %s no longer exists; %s does nothing", kind, report_id, step)
        return None
    story = attempt_story(kind, step, report_id, attempt)
    logs = report_model.log_model().objects.filter(report_id=report_id, task_name=task_name(kind, step))
    # A run of this attempt whose worker was killed (SIGKILL, hard time limit) never logged its
    # end; its message came back (acks_late). It failed: it ended at the latest now. Closed in
    # one transaction with the new log, so no reader takes it for the attempt's last word.
    with transaction.atomic():
        cut_short = logs.filter(retry=attempt, finished_dt=None)
        if cut_short.update(status=Status.ERROR, finished_dt=timezone.now(), error=CUT_SHORT):
            logger.warning(
                "%s report %s: %s retry %d was cut short; run again", kind, report_id, step, attempt
            )
        log = logs.create(report_id=report_id, task_name=task_name(kind, step), retry=attempt)
    try:
        time.sleep(story.duration)
        if story.error:
            raise DemoApiError(story.error)
    except BaseException as exc:  # a time limit or a shutdown ends the attempt too: log it as failed
        retried = isinstance(exc, DemoApiError) and attempt < MAX_RETRIES
        close_log(log, Status.ERROR, failure_reason(exc, step), story.retry_countdown if retried else None)
        raise
    close_log(log, Status.FINISHED)
    return story.duration


def close_log(log, status, error="", retry_countdown=None):
    """End an attempt's log, with why it failed and when its retry is due, in one write."""
    log.status = status
    log.finished_dt = timezone.now()
    log.error = error
    if retry_countdown is not None:
        log.retry_due_dt = log.finished_dt + timedelta(seconds=retry_countdown)
    log.save(update_fields=["status", "finished_dt", "error", "retry_due_dt"])


def run_callback(kind, step, report_id, attempt, task_id):
    """Run the "finished" or "error" callback: log the run and settle the report's status.

    "finished" does not overwrite an Error a task set (a group's early callback may come after
    a failure), but it does overwrite the watchdog's verdict: the callback is the truth, and a
    report marked stalled was only waiting after all. "error" always wins. Log and status are
    written together, so a retry does not log twice; a delivery of a task id already logged
    (its worker died after the commit, before the ack) does nothing.
    """
    report_model = REPORT_MODELS[kind]
    reports = report_model.objects.filter(pk=report_id)
    logs = report_model.log_model().objects.filter(report_id=report_id)
    with transaction.atomic():
        if not reports.exists():
            logger.warning("%s report %s no longer exists; %s does nothing", kind, report_id, step)
            return
        if logs.filter(task_id=task_id).exists():
            logger.info("%s report %s: %s task %s already ran", kind, report_id, step, task_id)
            return
        if step == "finished":
            # The watchdog's Error says why in ``error``; an Error a task set says nothing.
            reports.filter(Q(status=Status.PROCESSING) | ~Q(error="")).update(
                status=Status.FINISHED, error=""
            )
        else:
            reports.update(status=Status.ERROR, error="")
        # The log says which status the callback set: "error" ran and set Error.
        report_model.log_model().objects.create(
            report_id=report_id,
            task_name=task_name(kind, step),
            retry=attempt,
            task_id=task_id,
            status=Status.FINISHED if step == "finished" else Status.ERROR,
            finished_dt=timezone.now(),
        )


def fail_stalled(report=None):
    """Mark Error the reports still working whose tasks were lost: quiet for
    REPORTS_STALLED_AFTER seconds, and no message of theirs left for a worker to run.

    Lost with a worker killed outright or a broker that dropped them, nothing else ever would
    end them; an attempt left open is closed as failed. A quiet report whose task is still
    queued, waiting for a retry's countdown or running is waiting, not lost (project.held):
    under a backlog that takes longer than the limit. Should a lost task come back after all
    (a worker restarted on the filesystem broker's machine), its callback still has the last
    word (run_callback). Beat checks every minute. A report's page checks that ``report`` only:
    under a backlog of thousands, every quiet report's logs and the broker's every message, read
    for each view, made a page take seconds. Returns how many.
    """
    if not quiet_reports(report):
        return 0
    # The broker first, then the logs again: a task that ended between the two has logged.
    held = held_tasks()
    if held is None:
        logger.info("Quiet reports may be waiting in a queue the broker cannot list")
        return 0
    waiting = {(name, kwargs.get("report_id")) for name, _, kwargs in held}
    failed = 0
    for quiet in quiet_reports(report):
        names = {task_name(quiet.kind, step) for step in WORK_STEPS + CALLBACK_STEPS}
        if not any((name, quiet.pk) in waiting for name in names):
            failed += fail_stalled_report(quiet)
    return failed


def quiet_reports(report=None):
    """The reports still working (``report`` only, if given) that did nothing for
    REPORTS_STALLED_AFTER seconds."""
    quiet = []
    for report_model in REPORT_MODELS.values():
        if report is not None and not isinstance(report, report_model):
            continue
        open_logs = report_model.log_model().objects.filter(report=OuterRef("pk"), finished_dt=None)
        working = report_model.objects.filter(Q(status=Status.PROCESSING) | Exists(open_logs), error="")
        if report is not None:
            working = working.filter(pk=report.pk)
        quiet += [report for report in working.prefetch_related("task_logs") if report.is_quiet()]
    return quiet


def fail_stalled_report(report):
    """Mark ``report`` Error, saying so, and close the attempt its lost task left open."""
    error = (
        f"Stalled: nothing happened since {timezone.localtime(report.last_activity()):%H:%M:%S} "
        f"({settings.REPORTS_STALLED_AFTER} s without a task log) and none of its tasks is left "
        "in the queue or with a worker: they were lost with a worker or a broker. Marked Error; "
        "run it again from its page."
    )
    with transaction.atomic():
        updated = type(report).objects.filter(pk=report.pk).update(status=Status.ERROR, error=error)
        report.task_logs.filter(finished_dt=None).update(status=Status.ERROR, finished_dt=timezone.now())
    logger.warning("%s: %s", report, error)
    return updated
