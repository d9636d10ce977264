"""A running run's progress, told from what is stored already: no write per task.

The option's task records its plan when it sends its canvas (RollRun.header_id, planned
stations and pages). Each unit's tally is stored by the result backend as it finishes, and the
chord's counter (django-celery-results' ChordCounter) lists the header's task ids: so the
stations and pages written so far, their timeline, and an estimate of the end are one read of
those results. A run of one task (options 1 and 5a) stores nothing until it ends.
"""

import time
from dataclasses import dataclass

from celery import current_app, states
from django_celery_results.models import ChordCounter, TaskResult

from . import timeline
from .models import RollRun


@dataclass(frozen=True)
class Progress:
    elapsed: float  # seconds since the run started
    units_done: int  # tasks of the header that have finished
    units: int | None  # tasks in the header; None before the canvas is sent
    stations: int
    pages: int
    planned_stations: int | None
    planned_pages: int | None
    rate: float | None  # pages a second since its first unit started
    remaining: float | None  # seconds, estimated from the pages (or units) per second so far
    timeline: dict  # as timeline.encode makes it, from the run's start
    note: str  # what the figures cannot say, in words

    @property
    def share(self) -> float | None:
        """How much is done, 0 to 1: by pages when they are planned, else by units."""
        if self.planned_pages:
            return min(1.0, self.pages / self.planned_pages)
        if self.units:
            return self.units_done / self.units
        return None

    def summary(self) -> str:
        """One line: what is written of what, how fast, and how long to go."""
        parts = []
        if self.units is not None:
            parts.append(f"{self.units_done:,} of {self.units:,} tasks")
        if self.planned_stations is not None and self.units is not None:
            parts.append(f"{self.stations:,} of {self.planned_stations:,} stations")
            parts.append(f"{self.pages:,} of {self.planned_pages:,} pages")
        if self.rate:
            parts.append(f"{self.rate:,.0f} pages/s")
        parts.append(f"{self.elapsed:.0f} s")
        if self.remaining is not None:
            parts.append(f"about {self.remaining:.0f} s to go")
        text = " · ".join(parts)
        return f"{text}. {self.note}" if self.note else text


def untold(run: RollRun) -> str:
    """Why a running run has no header results to count, in words."""
    if run.header_id:  # its counter is gone: the chord's header has completed
        return "Every task of its chord has finished; the chord's body is completing the run."
    if run.planned_stations is not None:
        return (
            f"One task writes all {run.planned_stations:,} stations ({run.planned_pages:,} pages) and "
            "stores nothing until it ends: it cannot show progress without writing it."
        )
    return "Assigning stations; its tasks are not sent yet."


def run_progress(run: RollRun) -> Progress | None:
    """``run``'s progress while it runs; None when it is not running."""
    if run.status != RollRun.Status.RUNNING or run.started_dt is None:
        return None
    now = time.time()
    started = run.started_dt.timestamp()
    elapsed = max(0.0, now - started)
    plan = {"planned_stations": run.planned_stations, "planned_pages": run.planned_pages}
    counter = ChordCounter.objects.filter(group_id=run.header_id).first() if run.header_id else None
    if counter is None:
        # With a header sent and its counter gone, the header has completed: all planned is written.
        written = (run.planned_stations or 0, run.planned_pages or 0) if run.header_id else (0, 0)
        return Progress(
            elapsed, 0, None, *written, rate=None, remaining=None, timeline={}, note=untold(run), **plan
        )
    task_ids = [result.id for result in counter.group_result(app=current_app).results]
    stored = TaskResult.objects.filter(task_id__in=task_ids, status=states.SUCCESS).only(
        "result", "content_type", "content_encoding"
    )
    results = [current_app.backend.decode_content(row, row.result) for row in stored]
    tallies = list(timeline.units(results))
    stations = sum(tally["stations"] for tally in tallies)
    pages = sum(tally["pages"] for tally in tallies)
    rate = remaining = None
    if tallies:
        working = max(0.001, now - min(tally["start"] for tally in tallies))
        rate = pages / working if pages else None
        if run.planned_pages and rate:
            remaining = max(0.0, (run.planned_pages - pages) / rate)
        else:
            remaining = (len(task_ids) - len(results)) / (len(results) / working)
    return Progress(
        elapsed=elapsed,
        units_done=len(results),
        units=len(task_ids),
        stations=stations,
        pages=pages,
        rate=rate,
        remaining=remaining,
        timeline=timeline.encode(timeline.task_bars(results), origin=started),
        note="",
        **plan,
    )
