"""Group and chord reports: one report runs three demo tasks, and logs every attempt and callback.

The two kinds share everything but their canvas, so the shared parts live in abstract models.
"""

import logging
from collections import Counter
from datetime import timedelta

from celery import chord, group, signature
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .stories import MAX_RETRIES, WORK_SECONDS, task_name

logger = logging.getLogger(__name__)

WORK_STEPS = tuple(WORK_SECONDS)  # short, medium, long
CALLBACK_STEPS = ("finished", "error")


class Status(models.IntegerChoices):
    PROCESSING = 0, "Processing"
    ERROR = 1, "Error"
    FINISHED = 2, "Finished"


class Report(models.Model):
    """A report whose work is a canvas of demo tasks, sent once when the report is created."""

    kind = None  # "group" or "chord": the prefix of its tasks' names
    lesson = ""  # what the report shows about its canvas, for its admin page
    # Written only by the tasks and the conditional update that claims the send, never by a
    # plain save() of a copy that may be stale.
    TASK_OWNED_FIELDS = ("status", "is_celery_task_sent", "error")

    created_dt = models.DateTimeField("created", auto_now_add=True)
    status = models.IntegerField(choices=Status.choices, default=Status.PROCESSING)
    is_celery_task_sent = models.BooleanField("canvas sent", default=False)
    # Why it ended in Error, when no task said so (it stalled, the broker refused its canvas).
    error = models.TextField(blank=True)
    # Who created it: a user (the admin's form, Run again), and from where (those, or a command).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_from = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ("-pk",)

    def __str__(self):
        return f"{self.kind.capitalize()} report {self.pk}"

    def save(self, *args, **kwargs):
        """Save, and send the canvas after the transaction commits, once per report.

        The send is claimed with a conditional UPDATE inside the transaction: of two concurrent
        saves only one updates the row, and a rollback undoes the claim and drops the send.
        """
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.TASK_OWNED_FIELDS
            ]
        using = kwargs.get("using") or transaction.DEFAULT_DB_ALIAS
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)
            claimed = (
                type(self)
                ._default_manager.using(using)
                .filter(pk=self.pk, is_celery_task_sent=False)
                .update(is_celery_task_sent=True)
            )
            if claimed == 1:
                self.is_celery_task_sent = True
                transaction.on_commit(self.send_canvas, using=using)

    def send_canvas(self):
        """Send the canvas; if the broker refuses it, the report says so now, not hours later.

        Nothing will ever run for it: it is marked Error and its claim released, instead of
        waiting as Processing for the REPORTS_STALLED_AFTER watchdog.
        """
        try:
            self.canvas().apply_async()
        except Exception as exc:
            logger.exception("%s: the broker refused its canvas; marked Error", self)
            error = f"The broker refused its canvas: {exc!r}"
            type(self)._default_manager.filter(pk=self.pk).update(
                is_celery_task_sent=False, status=Status.ERROR, error=error
            )
            self.is_celery_task_sent, self.status, self.error = False, Status.ERROR, error

    def canvas(self):
        raise NotImplementedError

    def creator(self):
        """Who created it and from where, e.g. "admin (Run again of report 7)" or "create_reports"."""
        who = self.created_by.get_username() if self.created_by else ""
        if who and self.created_from:
            return f"{who} ({self.created_from})"
        return who or self.created_from or None

    def task_signature(self, step, immutable=False):
        return signature(task_name(self.kind, step), kwargs={"report_id": self.pk}, immutable=immutable)

    @classmethod
    def log_model(cls):
        return cls._meta.get_field("task_logs").related_model

    def last_activity(self):
        """When the report or one of its tasks last did something: its tasks log every step."""
        logs = list(self.task_logs.all())
        return max([self.created_dt, *(log.finished_dt or log.created_dt for log in logs)])

    def is_quiet(self):
        """No activity for REPORTS_STALLED_AFTER seconds: lost, or waiting behind a backlog
        (reports.work.fail_stalled asks the broker which)."""
        return self.last_activity() < timezone.now() - timedelta(seconds=settings.REPORTS_STALLED_AFTER)

    def step_outcomes(self, at=None):
        """Each work step's outcome as known at ``at`` (now by default): Finished, Error or None.

        A step is settled once an attempt finished, or one failed for good (its last allowed
        retry, or a failure not retried: a time limit); between two attempts, while a retry
        waits for its countdown, it is not (None).
        """
        outcomes = dict.fromkeys(WORK_STEPS)
        logs = list(self.task_logs.all())  # one read: the tasks keep adding logs
        cut_short = cut_short_log_ids(logs)
        for log in logs:
            if log.step not in outcomes or log.finished_dt is None or (at and log.finished_dt > at):
                continue
            if log.pk in cut_short:  # its attempt was delivered again: that run has the outcome
                continue
            if log.status == Status.FINISHED:
                outcomes[log.step] = Status.FINISHED
            elif log.failed_for_good and outcomes[log.step] is None:
                outcomes[log.step] = Status.ERROR
        return outcomes

    def unsettled_steps(self, at=None):
        return [step for step, outcome in self.step_outcomes(at).items() if outcome is None]

    def expected_callback_runs(self, outcomes):
        """How many times "finished" and "error" run, given the steps' outcomes."""
        raise NotImplementedError

    def is_in_progress(self):
        """Whether the report may still change: its admin page keeps refreshing until it cannot.

        That is while a step is unsettled or a callback its canvas owes has not run yet: a
        group's "finished" sets the status while other tasks still run, so the status alone
        does not say. A report the watchdog gave up on (its ``error`` says why) is over, unless
        a lost task comes back and its callback says otherwise.
        """
        if self.error:
            return False
        outcomes = self.step_outcomes()
        if self.status == Status.PROCESSING or None in outcomes.values():
            return True
        ran = Counter(log.step for log in self.task_logs.all())
        return any(ran[callback] < runs for callback, runs in self.expected_callback_runs(outcomes).items())

    def callback_summary(self):
        """One sentence per callback: when "finished" ran and what still ran then; how often "error" ran."""
        logs = list(self.task_logs.all())
        finished_runs = [log for log in logs if log.step == "finished"]
        error_runs = sum(1 for log in logs if log.step == "error")
        sentences = []
        for run in finished_runs:
            after = (run.created_dt - self.created_dt).total_seconds()
            still_running = self.unsettled_steps(at=run.created_dt)
            if still_running:
                names = " and ".join(filter(None, [", ".join(still_running[:-1]), still_running[-1]]))
                verb = "were" if len(still_running) > 1 else "was"
                sentences.append(
                    f"“finished” ran {after:.2f} s after creation while {names} {verb} still running."
                )
            else:
                sentences.append(
                    f"“finished” ran {after:.2f} s after creation, after every task had settled."
                )
        if not finished_runs:
            sentences.append("“finished” has not run.")
        sentences.append(f"“error” ran {error_runs} time{'' if error_runs == 1 else 's'}.")
        return " ".join(sentences)


def cut_short_log_ids(logs):
    """The ids of the work attempt ``logs`` cut short (a killed worker) and delivered again.

    A redelivered attempt logs its retry number again; the later log is the attempt's.
    """
    latest = {(log.task_name, log.retry): log.pk for log in logs if log.step in WORK_STEPS}
    return {log.pk for log in logs if log.step in WORK_STEPS and latest[log.task_name, log.retry] != log.pk}


class TaskLog(models.Model):
    """One attempt of a work task, or one run of a callback."""

    task_name = models.CharField(max_length=255)
    # A work attempt's outcome, or the status a callback set.
    status = models.IntegerField(choices=Status.choices, default=Status.PROCESSING)
    # The tutorial's name: how many retries came before this attempt (0 for the first one).
    retry = models.IntegerField(default=0)
    # A callback's Celery task id: delivered again after its worker died, it finds its own log.
    task_id = models.CharField(max_length=255, blank=True)
    created_dt = models.DateTimeField("created", auto_now_add=True)
    finished_dt = models.DateTimeField("finished", null=True)
    # Why a work attempt failed (its exception, a time limit, cut short), written as it ends.
    error = models.TextField(blank=True)
    # When a failed attempt's retry is due: its end plus the story's back-off.
    retry_due_dt = models.DateTimeField("retry due", null=True)

    class Meta:
        abstract = True
        ordering = ("created_dt", "pk")

    def __str__(self):
        return f"{self.report_id} {self.task_name}"

    @property
    def step(self):
        return self.task_name.rsplit("_", 1)[-1]

    @property
    def failed_for_good(self):
        """A work attempt that failed with no retry due after it: its step's last word."""
        return (
            self.finished_dt is not None
            and self.status == Status.ERROR
            and (self.retry >= MAX_RETRIES or self.retry_due_dt is None)
        )


class ReportGroup(Report):
    """Runs ``group(short, medium, long)`` with ``link(finished)`` and ``link_error(error)``.

    Celery links a group's callback to its first task only, and its errback to every task: so
    "finished" runs when *short* succeeds, whatever the others do, and "error" runs once per
    task that fails for good. That is the lesson this report shows, so it is kept as is.
    """

    kind = "group"
    lesson = (
        "A group's callback is linked to its first task only: “finished” runs as soon as short "
        "succeeds, whatever medium and long do. Its errback is linked to every task: “error” "
        "runs once for each task that fails for good."
    )

    class Meta(Report.Meta):
        verbose_name = "group report"

    def canvas(self):
        job = group([self.task_signature(step) for step in WORK_STEPS])
        job.link(self.task_signature("finished", immutable=True))
        job.link_error(self.task_signature("error", immutable=True))
        return job

    def expected_callback_runs(self, outcomes):
        # The callback rides on the first task; the errback on every task.
        return {
            "finished": int(outcomes[WORK_STEPS[0]] == Status.FINISHED),
            "error": sum(outcome == Status.ERROR for outcome in outcomes.values()),
        }


class ReportGroupTaskLog(TaskLog):
    report = models.ForeignKey(ReportGroup, on_delete=models.CASCADE, related_name="task_logs")

    class Meta(TaskLog.Meta):
        verbose_name = "group report task log"


class ReportChord(Report):
    """Runs ``chord(short, medium, long)(finished)``, with ``error`` as the body's errback.

    With django-celery-results the body waits for every header task: "finished" runs once
    after all three succeed; if one fails for good, the chord errors once its last header task
    is done, and "error" runs once.
    """

    kind = "chord"
    lesson = (
        "A chord's body waits for every task of its header: “finished” runs once, after short, "
        "medium and long have all succeeded. If one fails for good, “error” (the body's "
        "errback) runs once instead."
    )

    class Meta(Report.Meta):
        verbose_name = "chord report"

    def canvas(self):
        finished = self.task_signature("finished", immutable=True)
        finished.on_error(self.task_signature("error", immutable=True))
        return chord([self.task_signature(step) for step in WORK_STEPS], finished)

    def expected_callback_runs(self, outcomes):
        failed = Status.ERROR in outcomes.values()
        return {"finished": int(not failed), "error": int(failed)}


class ReportChordTaskLog(TaskLog):
    report = models.ForeignKey(ReportChord, on_delete=models.CASCADE, related_name="task_logs")

    class Meta(TaskLog.Meta):
        verbose_name = "chord report task log"


REPORT_MODELS = {model.kind: model for model in (ReportGroup, ReportChord)}
