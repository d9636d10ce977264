from django.conf import settings
from django.db import models


class LessonRun(models.Model):
    """One run of a lesson: what it observed, its verdict, and when each task ran where."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        CONFIRMED = "confirmed"
        NOT_CONFIRMED = "not confirmed"
        # A service the lesson needs (Redis, RabbitMQ) is not reachable: nothing was tried.
        SKIPPED = "skipped"
        # The experiment itself broke (a worker did not start, it was interrupted).
        ERROR = "error"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    lesson = models.SlugField(max_length=60)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    verdict = models.TextField(blank=True)
    # The figures the verdict rests on, by variant ("redis", "rabbitmq", "acks_late", ...).
    observation = models.JSONField(default=dict, blank=True)
    # Every task execution the lesson's workers reported: {"lanes": [...], "bars": [...]}.
    timeline = models.JSONField(default=dict, blank=True)
    # The lesson's progress lines, then its workers' and beats' log lines.
    log = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_dt = models.DateTimeField("queued", auto_now_add=True)
    started_dt = models.DateTimeField("started", null=True, blank=True)
    finished_dt = models.DateTimeField("finished", null=True, blank=True)

    class Meta:
        ordering = ["-queued_dt", "-pk"]

    def __str__(self):
        return f"lesson run {self.pk} ({self.lesson})"

    @property
    def duration(self):
        if self.started_dt and self.finished_dt:
            return self.finished_dt - self.started_dt
        return None


class Specimen(models.Model):
    """A row a lesson's tasks look for or act on (on_commit, pks): deleted when the lesson ends."""

    run = models.ForeignKey(LessonRun, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(max_length=40)

    def __str__(self):
        return f"specimen {self.pk}: {self.value}"
