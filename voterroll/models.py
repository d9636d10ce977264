import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q, Value

from . import files
from .options import option_choices


class PollingCenter(models.Model):
    # The center's public number, printed on its rolls; not the primary key.
    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    # Set when a run prints this center's rolls; the admin shows them.
    rolls_written_dt = models.DateTimeField("rolls written", null=True, blank=True, editable=False)
    roll_pages = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # The run whose rolls and signs of this center are the latest: the admin links to them.
    rolls_run = models.ForeignKey(
        "RollRun", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"{self.number} {self.name}"


class Voter(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", "female"
        MALE = "M", "male"

    # The voter's public number, printed on the rolls; not the primary key.
    number = models.PositiveBigIntegerField(unique=True)
    name = models.CharField(max_length=200)
    # Women and men vote at separate stations (VOTERROLL_STATIONS_BY_GENDER). Empty only for
    # voters made before genders were recorded: runs refuse them until the data is made again.
    gender = models.CharField(max_length=1, choices=Gender.choices)

    class Meta:
        ordering = ["name", "number"]

    def __str__(self):
        return f"{self.number} {self.name}"


class VoterRegistration(models.Model):
    """Where a voter votes: exactly one center per voter (the voter is the key)."""

    voter = models.OneToOneField(
        Voter, primary_key=True, on_delete=models.CASCADE, related_name="registration"
    )
    center = models.ForeignKey(PollingCenter, on_delete=models.CASCADE, related_name="registrations")

    def __str__(self):
        return f"{self.voter} at {self.center}"


class StationAssignment(models.Model):
    """The station (table, PDF) of a voter within the center the voter is registered at.

    Written set-based by voterroll.stations.assign_stations; never edited one by one.
    """

    # The voter is the key, and (center, station) the one other index: each index is rebuilt
    # whenever every station is assigned again.
    voter = models.OneToOneField(Voter, primary_key=True, on_delete=models.CASCADE, related_name="station")
    center = models.ForeignKey(
        PollingCenter, on_delete=models.CASCADE, related_name="stations", db_index=False
    )
    station = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(station__gte=1), name="voterroll_station_from_one"),
        ]
        # A station's PDF reads its voters by (center, station).
        indexes = [models.Index(fields=["center", "station"], name="voterroll_center_station")]

    def __str__(self):
        return f"{self.voter} at {self.center}, station {self.station}"


class RollRunQuerySet(models.QuerySet):
    def active(self):
        """Queued or running: at most one (see RollRun.Meta), and no other run may start."""
        return self.filter(status__in=RollRun.ACTIVE)

    def running(self):
        return self.filter(status=RollRun.Status.RUNNING)

    def queued(self):
        return self.filter(status=RollRun.Status.QUEUED)

    def ended(self):
        return self.exclude(status__in=RollRun.ACTIVE)


class RollRun(models.Model):
    """One invocation of an option: when it ran, what it produced, how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    ACTIVE = [Status.QUEUED, Status.RUNNING]

    option = models.CharField(max_length=60, choices=option_choices)
    # Set for a run that regenerates one center's rolls only (option 5b, from the admin).
    center = models.ForeignKey(
        PollingCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    queued_dt = models.DateTimeField("queued", auto_now_add=True)
    started_dt = models.DateTimeField("started", null=True, blank=True)
    finished_dt = models.DateTimeField("finished", null=True, blank=True)
    # The last sign of life from the run's tasks (voterroll.runs.note_progress): a run that
    # gives none for VOTERROLL_STALLED_AFTER seconds has lost its tasks and is failed.
    progress_dt = models.DateTimeField("last progress", null=True, blank=True, editable=False)
    centers = models.PositiveIntegerField(default=0)
    stations = models.PositiveIntegerField(default=0)
    # The voters it printed: runs compare only on the same data (0: from before it was counted).
    voters = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    # Celery tasks the run queued, its own included.
    tasks = models.PositiveIntegerField(default=0)
    # What its canvas will do, recorded when it is sent (voterroll.tasks.send_counted): progress
    # is told from the results of that chord's header stored so far (voterroll.progress).
    header_id = models.CharField(max_length=255, blank=True, editable=False)
    planned_stations = models.PositiveIntegerField(null=True, blank=True, editable=False)
    planned_pages = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Who started it: a user (the admin), and from where (the admin's form, Run again, a center
    # renamed, a command).
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_from = models.CharField(max_length=100, blank=True, editable=False)
    # The option task that claimed the run: delivered again, it may go on (runs.mark_running).
    task_id = models.CharField(max_length=255, blank=True, editable=False)
    error = models.TextField(blank=True)
    # Bytes of the rolls it wrote (the disk, or the bucket, it uses), counted when it finishes.
    file_bytes = models.PositiveBigIntegerField(default=0)
    # When its rolls were deleted (after VOTERROLL_KEEP_FILES_DAYS, or by staff); the record stays.
    files_deleted_dt = models.DateTimeField("files deleted", null=True, blank=True)
    # The folder of this run's rolls in storage (voterroll.files).
    output_dir = models.CharField(max_length=200, blank=True)
    # Its tasks, for the admin's timeline: {"lanes": ["host:pid", ...], "bars": [[lane, kind,
    # start ms, end ms], ...]}, written once by whatever finishes the run (voterroll.runs).
    timeline = models.JSONField(default=dict, blank=True, editable=False)

    objects = RollRunQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_dt", "-pk"]
        constraints = [
            # At most one run queued or running: a second run could re-assign stations while
            # the first prints them. voterroll.runs.create_run turns a clash into a message.
            models.UniqueConstraint(
                Value(1), condition=Q(status__in=["queued", "running"]), name="voterroll_one_active_run"
            ),
        ]

    def __str__(self):
        scope = f" of center {self.center.number}" if self.center_id else ""
        return f"Run {self.pk} ({self.option}{scope})"

    @property
    def duration(self):
        if self.started_dt and self.finished_dt:
            return self.finished_dt - self.started_dt
        return None

    def rolls(self):
        """The names of this run's rolls in storage (voterroll.files), by center and station."""
        return files.rolls(self.output_dir)


def register_file_name(register, filename):
    """A folder of its own per upload: two files of the same name never meet (S3 overwrites)."""
    return f"voterroll/registers/{secrets.token_hex(8)}/{filename}"


class VoterRegister(models.Model):
    """A register file uploaded in the admin, and how its import (a task) went."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        CHECKING = "checking"
        WRITING = "writing"
        IMPORTED = "imported"
        # Nothing changed: the file has problems, or a run was active.
        REFUSED = "refused"
        FAILED = "failed"

    ACTIVE = [Status.QUEUED, Status.CHECKING, Status.WRITING]

    file = models.FileField(upload_to=register_file_name, max_length=300)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    queued_dt = models.DateTimeField("uploaded", auto_now_add=True)
    started_dt = models.DateTimeField("started", null=True, blank=True)
    finished_dt = models.DateTimeField("finished", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    size = models.PositiveBigIntegerField("bytes", default=0)
    # How far the check has read, for the page's progress (the write is one transaction, which
    # no other connection sees into until it commits).
    checked = models.PositiveBigIntegerField("bytes checked", default=0)
    voters = models.PositiveIntegerField(null=True, blank=True)
    centers = models.PositiveIntegerField(null=True, blank=True)
    # Why it was refused or failed: every problem of the file by line, as import_voters prints them.
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_dt", "-pk"]

    def __str__(self):
        return f"Register {self.pk} ({self.file.name.rsplit('/', 1)[-1]})"
