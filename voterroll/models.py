from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q, Value


def run_folder(output_dir):
    """A run's folder (its ``output_dir``, relative to MEDIA_ROOT) as a path."""
    return Path(settings.MEDIA_ROOT) / output_dir


class PollingCenter(models.Model):
    center_id = models.PositiveIntegerField(unique=True)
    center_name = models.CharField(max_length=200)
    # Set when a run prints this center's rolls; the admin shows them.
    rolls_generated_at = models.DateTimeField(null=True, blank=True, editable=False)
    roll_pages = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["center_id"]

    def __str__(self):
        return f"{self.center_id} {self.center_name}"


class Voter(models.Model):
    voter_id = models.PositiveBigIntegerField(unique=True)
    voter_name = models.CharField(max_length=200)

    class Meta:
        ordering = ["voter_name", "voter_id"]

    def __str__(self):
        return f"{self.voter_id} {self.voter_name}"


class VoterRegistration(models.Model):
    """Where a voter votes: exactly one center per voter."""

    voter = models.OneToOneField(Voter, on_delete=models.CASCADE, related_name="registration")
    center = models.ForeignKey(PollingCenter, on_delete=models.CASCADE, related_name="registrations")

    def __str__(self):
        return f"{self.voter} at {self.center}"


class StationAssignment(models.Model):
    """The station (table, PDF) of a voter within the center the voter is registered at.

    Written set-based by voterroll.stations.assign_stations; never edited one by one.
    """

    voter = models.OneToOneField(Voter, on_delete=models.CASCADE, related_name="station")
    center = models.ForeignKey(PollingCenter, on_delete=models.CASCADE, related_name="stations")
    station = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(station__gte=1), name="voterroll_station_from_one"),
        ]
        # A station's PDF reads its voters by (center, station).
        indexes = [models.Index(fields=["center", "station"], name="voterroll_center_station")]

    def __str__(self):
        return f"{self.voter} at {self.center}, station {self.station}"


class Option(models.TextChoices):
    """The ways to distribute the work; each is a task of the same name in voterroll.tasks."""

    ALL_IN_ONE = "all_in_one", "1 · all in one task"
    JOIN = "parallelize_tasks_by_center_with_join", "2 · group by center, joined (anti-pattern)"
    CHORD_BY_CENTER = "queue_tasks_by_center_with_chord", "3 · chord by center"
    PARALLEL_ASSIGN = (
        "assign_all_stations_in_parallel", "4 · stations assigned in parallel (anti-pattern)"
    )
    STARMAP = "assign_stations_and_generate_lists_with_starmap", "5a · starmap by station"
    CHORD_BY_STATION = "assign_stations_and_generate_lists_with_chord", "5b · chord by station"
    ERROR = "group_with_error_in_sub_task", "chord with a failing sub-task"

    @classmethod
    def from_alias(cls, text):
        """The option ``text`` names, by name or alias (1, 2, 3, 4, 5a, 5b, error); or None."""
        text = text.strip().lower()
        if text in cls.values:
            return cls(text)
        return ALIASES.get(text)


ALIASES = {
    "1": Option.ALL_IN_ONE,
    "2": Option.JOIN,
    "3": Option.CHORD_BY_CENTER,
    "4": Option.PARALLEL_ASSIGN,
    "5a": Option.STARMAP,
    "5b": Option.CHORD_BY_STATION,
    "error": Option.ERROR,
}


class RollRun(models.Model):
    """One invocation of an option: when it ran, what it produced, how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    ACTIVE = [Status.QUEUED, Status.RUNNING]

    option = models.CharField(max_length=60, choices=Option.choices)
    # Set for a run that regenerates one center's rolls only (option 5b, from the admin).
    center = models.ForeignKey(
        PollingCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    centers = models.PositiveIntegerField(default=0)
    stations = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    # Celery tasks the run queued, its own included.
    tasks = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The folder holding this run's PDFs, relative to MEDIA_ROOT.
    output_dir = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        constraints = [
            # At most one run queued or running: a second run could re-assign stations while
            # the first prints them. voterroll.runs.create_run turns a clash into a message.
            models.UniqueConstraint(
                Value(1), condition=Q(status__in=["queued", "running"]), name="voterroll_one_active_run"
            ),
        ]

    def __str__(self):
        scope = f" of center {self.center.center_id}" if self.center_id else ""
        return f"Run {self.pk} ({self.option}{scope})"

    @property
    def output_path(self):
        return run_folder(self.output_dir)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    def pdf_files(self):
        """This run's PDFs, sorted by name; temporary files of writes in progress left out."""
        if not self.output_path.is_dir():
            return []
        paths = [path for path in self.output_path.glob("center_*_*.pdf") if path.is_file()]
        return sorted(paths, key=lambda path: [int(part) for part in path.stem.split("_")[1:]])
