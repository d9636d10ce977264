"""What the report tasks do, as plain functions: the tasks only call these and retry."""
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import REPORT_MODELS, Status
from .stories import attempt_story, task_name

logger = logging.getLogger(__name__)


class DemoApiError(Exception):
    """The failure a demo task simulates: the external API it stands for let it down."""


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
        if cut_short.update(status=Status.ERROR, finished_dt=timezone.now()):
            logger.warning("%s report %s: %s retry %d was cut short; run again", kind, report_id, step, attempt)
        log = logs.create(report_id=report_id, task_name=task_name(kind, step), retry=attempt)
    try:
        time.sleep(story.duration)
        if story.error:
            raise DemoApiError(story.error)
    except BaseException:  # a time limit or a shutdown ends the attempt too: log it as failed
        close_log(log, Status.ERROR)
        raise
    close_log(log, Status.FINISHED)
    return story.duration


def close_log(log, status):
    log.status = status
    log.finished_dt = timezone.now()
    log.save(update_fields=["status", "finished_dt"])


def run_callback(kind, step, report_id, attempt, task_id):
    """Run the "finished" or "error" callback: log the run and settle the report's status.

    "finished" does not overwrite an Error (a group's early callback may come after a failure);
    "error" always wins. Log and status are written together, so a retry does not log twice;
    a delivery of a task id already logged (its worker died after the commit, before the ack)
    does nothing.
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
            reports.filter(status=Status.PROCESSING).update(status=Status.FINISHED)
        else:
            reports.update(status=Status.ERROR)
        report_model.log_model().objects.create(
            report_id=report_id,
            task_name=task_name(kind, step),
            retry=attempt,
            task_id=task_id,
            status=Status.FINISHED,
            finished_dt=timezone.now(),
        )


def fail_stalled_reports():
    """Mark reports still Processing after REPORTS_STALLED_AFTER seconds as Error; return how many.

    Their canvas was lost (a broker outage at send time, say), so nothing else ever would.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.REPORTS_STALLED_AFTER)
    failed = 0
    for report_model in REPORT_MODELS.values():
        stalled = report_model.objects.filter(status=Status.PROCESSING, created_dt__lt=cutoff)
        ids = list(stalled.values_list("pk", flat=True))
        if not ids:
            continue
        count = stalled.filter(pk__in=ids).update(status=Status.ERROR)
        # An attempt whose worker was killed and whose message was lost never logs its end.
        report_model.log_model().objects.filter(report_id__in=ids, finished_dt=None).update(
            status=Status.ERROR, finished_dt=timezone.now()
        )
        logger.warning(
            "Marked %d stalled %s report(s) as Error: ids %s",
            count, report_model.kind, ", ".join(map(str, ids)),
        )  # fmt: skip
        failed += count
    return failed
