"""A RollRun's life: queued, marked running by its first task, completed by its last, or
failed (by a task, or by the watchdog when its tasks were lost).

Retention is in voterroll.retention, the timeline's encoding in voterroll.timeline.
"""

import logging
import secrets
import time
from collections import Counter
from datetime import timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from project.held import held_tasks

from . import record, timeline
from .models import PollingCenter, RollRun, VoterRegistration
from .options import Option
from .units import Bar, Plan, UnitResult

logger = logging.getLogger(__name__)


class RunRefused(Exception):
    """A run cannot start now; the message says why, for a command or a form to show."""


def create_run(
    option: Option, center: PollingCenter | None = None, started_by=None, started_from=""
) -> RollRun:
    """A queued RollRun of ``option`` (for one ``center``, or all), or RunRefused.

    Only one run may be queued or running at a time (a database constraint makes that hold
    even for two requests at the same instant): a second run would re-assign stations
    while the first one prints them.
    """
    registrations = VoterRegistration.objects.all()
    if center is not None:
        registrations = registrations.filter(center=center)
    if not registrations.exists():
        where = f"center {center.number}" if center is not None else "the database"
        raise RunRefused(
            f"There are no registered voters in {where}; nothing to print. "
            "Create some with `manage.py create_fake_voter_data N`."
        )
    if settings.VOTERROLL_STATIONS_BY_GENDER and registrations.filter(voter__gender="").exists():
        raise RunRefused(
            "Some voters have no gender (they were made before genders were recorded), so "
            "women's and men's stations cannot be formed. Make the voter data again "
            "(`manage.py create_fake_voter_data N`), or set VOTERROLL_STATIONS_BY_GENDER=False."
        )
    refuse_while_a_run_is_active()
    try:
        with transaction.atomic():
            run = RollRun.objects.create(
                option=option,
                center=center,
                progress_dt=timezone.now(),
                started_by=started_by,
                started_from=started_from,
            )
            # The token keeps a folder from a run of an earlier database (ids start again
            # after a reset) from mixing its PDFs into this run's.
            run.output_dir = f"voterroll/run-{run.pk}-{secrets.token_hex(4)}"
            run.save(update_fields=["output_dir"])
    except IntegrityError:
        raise RunRefused(busy_message(active_run())) from None
    return run


def start_run(
    option: Option, center: PollingCenter | None = None, started_by=None, started_from=""
) -> RollRun:
    """Create a queued run of ``option`` and send its task once the run is committed (what
    ``queue_task`` and the admin's *Start a run* do).

    Raises RunRefused (with a message for the user) when it cannot start, or when the broker
    refuses its task: at once outside a transaction, else when it commits.
    """
    run = create_run(option, center, started_by, started_from)
    transaction.on_commit(partial(send_run, run.pk, Option(option).task_name))
    return run


def send_run(run_id: int, task_name: str) -> None:
    """Send the run's first task; if the broker refuses it, fail the run (not stuck queued) and say so."""
    try:
        current_app.send_task(task_name, [run_id])
    except Exception as exc:
        error = f"Could not queue {task_name}: {exc!r}"
        fail_run(run_id, error)
        raise RunRefused(f"Run {run_id} failed: {error}. Is the broker running?") from exc


def refuse_while_a_run_is_active(keep_new_runs_out: bool = False) -> None:
    """Raise RunRefused, naming the active run, if there is one.

    ``keep_new_runs_out`` (inside a transaction that replaces what runs read): no run starts
    until the transaction ends either. On PostgreSQL a table lock that conflicts with the
    INSERT creating a run; SQLite needs nothing more, its write transactions (BEGIN IMMEDIATE
    here) already run one at a time.
    """
    fail_stalled()
    if keep_new_runs_out and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(RollRun._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
            )
    active = active_run()
    if active is not None:
        raise RunRefused(busy_message(active))


def active_run() -> RollRun | None:
    return RollRun.objects.active().first()


def busy_message(active: RollRun | None) -> str:
    if active is None:  # it ended between our two looks
        return "Another run started at the same moment; try again."
    return (
        f"{active} is still {active.status} (queued {active.queued_dt:%H:%M:%S}); one run at a "
        "time, so that a run never re-assigns stations another is printing. Try again when it "
        "has finished."
    )


def mark_running(run_id: int, task_id: str) -> RollRun | None:
    """Claim a queued run for the option task ``task_id``: the run, now running, or None to stop.

    One conditional UPDATE, so only one task ever claims it. The same task delivered again (its
    worker died, or lost its broker, before acknowledging it) goes on where it is: it sends its
    canvas again under the same task ids (voterroll.tasks.task_id), which every part of it
    takes calmly. Anything else is not the caller's: the watchdog or a refused send failed the
    run already, or another task started it.
    """
    now = timezone.now()
    claimed = (
        RollRun.objects.queued()
        .filter(pk=run_id)
        .update(status=RollRun.Status.RUNNING, started_dt=now, progress_dt=now, tasks=1, task_id=task_id)
    )
    run = RollRun.objects.select_related("center").filter(pk=run_id).first()
    if claimed:
        return run
    if run is not None and run.status == RollRun.Status.RUNNING and run.task_id == task_id:
        logger.warning("Run %s: its task %s was delivered again; sending its work again", run_id, task_id)
        return run
    status = run.status if run else "deleted"
    logger.warning("Run %s is %s, not queued: not this task's to start; stopping", run_id, status)
    return None


def is_running(run_id: int) -> bool:
    return RollRun.objects.running().filter(pk=run_id).exists()


def record_sent(run_id: int, tasks: int, plan: Plan | None = None) -> None:
    """Record how many tasks the run has queued, its own included (a total, not an increment,
    so that a task delivered again and sending its work again counts it once), and the
    ``plan`` of what they will do, from which its progress is told."""
    planned = {}
    if plan is not None:
        planned = {
            "header_id": plan.header_id,
            "planned_stations": plan.stations,
            "planned_pages": plan.pages,
        }
    RollRun.objects.filter(pk=run_id).update(tasks=tasks, progress_dt=timezone.now(), **planned)


# Seconds between two signs of life one process writes for a run; the run is stalled only
# after VOTERROLL_STALLED_AFTER seconds without any.
PROGRESS_EVERY = 15
last_noted = {"run": None, "at": 0.0}


def note_progress(run_id: int) -> None:
    """A sign of life from a task of the run: written at most every PROGRESS_EVERY seconds by
    one process, not once per task."""
    now = time.monotonic()
    if last_noted["run"] == run_id and now - last_noted["at"] < PROGRESS_EVERY:
        return
    last_noted.update(run=run_id, at=now)
    RollRun.objects.running().filter(pk=run_id).update(progress_dt=timezone.now())


def finish_run(run_id: int, results: list[UnitResult], bars: list[Bar]) -> RollRun | None:
    """Complete a running run from its units' results: write its job record (voterroll.record),
    and keep its tasks' ``bars`` as its timeline.

    Each center printed records when and how many pages, and that its rolls are this run's. A
    run that is no longer running (failed meanwhile, or finished by an earlier delivery)
    keeps its outcome: returns None.
    """
    now = timezone.now()
    run = RollRun.objects.running().select_related("center").filter(pk=run_id).first()
    if run is None:
        logger.warning("Run %s is no longer running; its outcome stays as it is", run_id)
        return None
    pages_by_center = Counter()
    stations = 0
    listed = []
    for tally in timeline.units(results):
        pages_by_center[tally["center"]] += tally["pages"]
        stations += tally["stations"]
        listed += tally["stations_listed"]
    file_bytes = record.write_record(run, listed, now)
    with transaction.atomic():
        finished = (
            RollRun.objects.running()
            .filter(pk=run_id)
            .update(
                status=RollRun.Status.FINISHED,
                finished_dt=now,
                centers=len(pages_by_center),
                stations=stations,
                voters=sum(station["voters"] for station in listed),
                pages=sum(pages_by_center.values()),
                file_bytes=file_bytes,
                timeline=timeline.encode(bars),
            )
        )
        if not finished:
            logger.warning("Run %s is no longer running; its outcome stays as it is", run_id)
            return None
        for center_pk, pages in pages_by_center.items():
            PollingCenter.objects.filter(pk=center_pk).update(
                rolls_written_dt=now, roll_pages=pages, rolls_run=run_id
            )
    run = RollRun.objects.get(pk=run_id)
    logger.info(
        "%s finished in %s: %d centers, %d stations, %d pages, %d tasks",
        run,
        run.duration,
        run.centers,
        run.stations,
        run.pages,
        run.tasks,
    )
    return run


def note_error(run_id: int, error: str) -> None:
    """Record why a running run will fail, before it does (see option 2)."""
    RollRun.objects.active().filter(pk=run_id).update(error=str(error))


def fail_run(run_id: int, error: str) -> None:
    """Record why the run failed; a run already ended keeps its first outcome."""
    updated = (
        RollRun.objects.active()
        .filter(pk=run_id)
        .update(status=RollRun.Status.FAILED, finished_dt=timezone.now(), error=str(error))
    )
    if updated:
        logger.error("Run %s failed: %s", run_id, error)


def wait_for_outcome(run: RollRun, timeout: float) -> RollRun | None:
    """``run`` fresh from the database once it has finished or failed; None after ``timeout`` seconds.

    For a command that waits on its run, and for tests and benchmarks: it polls, every 50 ms.
    """
    deadline = time.monotonic() + timeout
    while True:
        ended = RollRun.objects.ended().filter(pk=run.pk).first()
        if ended is not None or time.monotonic() > deadline:
            return ended
        time.sleep(0.05)


def fail_stalled() -> int:
    """Fail the runs whose tasks gave no sign of life for VOTERROLL_STALLED_AFTER seconds and
    are no longer with the broker.

    Their tasks were lost (a worker killed with its messages, a broker that lost them, no
    worker at all), and while a run looks active no other may start: beat checks every
    minute, and so does every request for a new run or new data. A run whose tasks wait in a
    queue behind other work, or in a live worker's hands, is waiting, not lost (project.held;
    one run at a time, so any voter-roll task held is the active run's). Returns how many failed.
    """
    if not stalled_runs() or run_tasks_held():
        return 0
    stalled = stalled_runs()  # again: a task that ended while the broker was asked has noted it
    for run in stalled:
        fail_run(
            run.pk,
            f"Stalled: {run.status}, and no sign of life from its tasks since "
            f"{timezone.localtime(run.last_sign):%H:%M:%S} "
            f"({timedelta(seconds=settings.VOTERROLL_STALLED_AFTER)} without one), and none of them "
            "is left in the queue or with a worker: its worker stopped or its messages were lost. "
            "Failed so that other runs can start; run it again.",
        )
    return len(stalled)


def stalled_runs():
    stalled_after = timedelta(seconds=settings.VOTERROLL_STALLED_AFTER)
    last_sign = Coalesce("progress_dt", "queued_dt")
    return list(
        RollRun.objects.active()
        .annotate(last_sign=last_sign)
        .filter(last_sign__lt=timezone.now() - stalled_after)
    )


# Voter-roll tasks of no run: beat's, and a register's import.
NOT_A_RUNS = {
    "voterroll.tasks.fail_stalled_runs",
    "voterroll.tasks.delete_old_files",
    "voterroll.tasks.import_register",
}


def run_tasks_held():
    """Whether a live worker will still run a task of a run (or the broker cannot tell):
    a voter-roll task, or option 5a's starmap of them."""
    held = held_tasks()
    if held is None:
        return True
    return any(
        (name.startswith("voterroll.") and name not in NOT_A_RUNS) or name == "celery.starmap"
        for name, _, _ in held
    )
