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
    log = report_model.log_model().objects.create(
        report_id=report_id, task_name=task_name(kind, step), retry=attempt
    )
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


def run_callback(kind, step, report_id, attempt):
    """Run the "finished" or "error" callback: log the run and settle the report's status.

    "finished" does not overwrite an Error (a group's early callback may come after a failure);
    "error" always wins. Log and status are written together, so a retry does not log twice.
    """
    report_model = REPORT_MODELS[kind]
    reports = report_model.objects.filter(pk=report_id)
    with transaction.atomic():
        if not reports.exists():
            logger.warning("%s report %s no longer exists; %s does nothing", kind, report_id, step)
            return
        if step == "finished":
            reports.filter(status=Status.PROCESSING).update(status=Status.FINISHED)
        else:
            reports.update(status=Status.ERROR)
        report_model.log_model().objects.create(
            report_id=report_id,
            task_name=task_name(kind, step),
            retry=attempt,
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
        logger.warning(
            "Marked %d stalled %s report(s) as Error: ids %s",
            count, report_model.kind, ", ".join(map(str, ids)),
        )  # fmt: skip
        failed += count
    return failed
