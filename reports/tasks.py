"""The ten demo task names of the tutorial, registered from two task bodies, and the watchdog.

``report_<kind>_<step>`` for kind in (group, chord) and step in (short, medium, long, finished,
error): the kind and step are attributes of the task, so each body is written once.
"""

from celery import shared_task
from celery.exceptions import Reject

from project.tasks import DatabaseTask

from . import work
from .models import CALLBACK_STEPS, REPORT_MODELS, WORK_STEPS
from .stories import MAX_RETRIES, attempt_story, task_name, work_time_limits


class ReportTask(DatabaseTask):
    """A report task; ``report_kind`` and ``step`` say which of the ten it is."""

    report_kind = None
    step = None
    max_retries = MAX_RETRIES

    def retry_later(self, report_id, exc):
        """Retry after the story's scaled, jittered back-off; once retries run out, raise ``exc``.

        When the retry cannot be sent (the broker is away longer than the worker waits for it),
        Celery rejects the message for good and records a failure, which would end a chord; it
        is handed back instead, and this attempt runs again once the broker is back.
        """
        story = attempt_story(self.report_kind, self.step, report_id, self.request.retries)
        try:
            return self.retry(countdown=story.retry_countdown, exc=exc)
        except Reject as refused:
            raise Reject(refused.reason, requeue=True) from exc


def run_work_step(self, report_id):
    """One attempt of short, medium or long; a failed attempt is retried after a back-off."""
    try:
        return work.run_attempt(self.report_kind, self.step, report_id, self.request.retries)
    except work.DemoApiError as exc:
        raise self.retry_later(report_id, exc) from exc


def run_callback_step(self, report_id):
    """The "finished" or "error" callback of a report's canvas."""
    work.run_callback(self.report_kind, self.step, report_id, self.request.retries, self.request.id)


def register_report_tasks():
    """The ten tasks: one body for the work steps, one for the callbacks."""
    for kind in REPORT_MODELS:
        for step in WORK_STEPS + CALLBACK_STEPS:
            is_work = step in WORK_STEPS
            shared_task(
                run_work_step if is_work else run_callback_step,
                name=task_name(kind, step),
                base=ReportTask,
                bind=True,
                report_kind=kind,
                step=step,
                **(work_time_limits(step) if is_work else {}),
            )


# Registers report_group_short, report_group_medium, report_group_long, report_group_finished,
# report_group_error and the same five of report_chord_*: the names the worker log, the task
# logs and the canvases use (reports.stories.task_name), made here rather than written out.
register_report_tasks()


@shared_task
def fail_stalled_reports():
    """Beat's watchdog over reports whose canvas never finished."""
    return work.fail_stalled()
