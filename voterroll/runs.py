"""A RollRun's life: created queued, marked running by its first task, completed by its last."""
import logging
import secrets
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import PollingCenter, RollRun, VoterRegistration

logger = logging.getLogger(__name__)


class RunRefused(Exception):
    """A run cannot start now; the message says why, for a command or a form to show."""


def create_run(option, center=None):
    """A queued RollRun of ``option`` (for one ``center``, or all), or RunRefused.

    Only one run may be queued or running at a time (a database constraint makes that hold
    even for two requests at the same instant): a second run would re-assign stations
    while the first one prints them.
    """
    registrations = VoterRegistration.objects.all()
    if center is not None:
        registrations = registrations.filter(center=center)
    if not registrations.exists():
        where = f"center {center.center_id}" if center is not None else "the database"
        raise RunRefused(
            f"There are no registered voters in {where}; nothing to print. "
            "Create some with `manage.py create_fake_voter_data N`."
        )
    active = active_run()
    if active is not None:
        raise RunRefused(busy_message(active))
    try:
        with transaction.atomic():
            run = RollRun.objects.create(option=option, center=center)
            # The token keeps a folder from a run of an earlier database (ids start again
            # after a reset) from mixing its PDFs into this run's.
            run.output_dir = f"voterroll/run-{run.pk}-{secrets.token_hex(4)}"
            run.save(update_fields=["output_dir"])
    except IntegrityError:
        raise RunRefused(busy_message(active_run())) from None
    return run


def active_run():
    return RollRun.objects.filter(status__in=RollRun.ACTIVE).first()


def busy_message(active):
    if active is None:  # it ended between our two looks
        return "Another run started at the same moment; try again."
    return (
        f"{active} is still {active.status} (queued {active.queued_at:%H:%M:%S}); one run at a "
        "time, so that a run never re-assigns stations another is printing. Try again when it "
        "has finished."
    )


def mark_running(run_id):
    """Claim a queued run for its first task: the run, now running, or None to stop.

    One conditional UPDATE, so only one task ever goes on. Anything but a queued run is
    not the caller's: the watchdog or a refused send failed it already, or this is a second
    delivery of a task that started it (a lost connection redelivers while the first may
    still be working; going on would print everything twice). Its own task counts as one.
    """
    claimed = RollRun.objects.filter(pk=run_id, status=RollRun.Status.QUEUED).update(
        status=RollRun.Status.RUNNING, started_at=timezone.now(), tasks=F("tasks") + 1
    )
    run = RollRun.objects.select_related("center").filter(pk=run_id).first()
    if not claimed:
        status = run.status if run else "deleted"
        logger.warning("Run %s is %s, not queued: not this task's to start; stopping", run_id, status)
        return None
    return run


def add_tasks(run_id, tasks):
    RollRun.objects.filter(pk=run_id).update(tasks=F("tasks") + tasks)


def finish_run(run_id, tallies):
    """Complete a running run from its units' tallies ({"center", "stations", "pages"} each).

    Each center printed records when and how many pages. A run that is no longer running
    (failed meanwhile, or finished by an earlier delivery) keeps its outcome: returns None.
    """
    now = timezone.now()
    pages_by_center = Counter()
    stations = 0
    for tally in tallies:
        pages_by_center[tally["center"]] += tally["pages"]
        stations += tally["stations"]
    with transaction.atomic():
        finished = RollRun.objects.filter(pk=run_id, status=RollRun.Status.RUNNING).update(
            status=RollRun.Status.FINISHED,
            finished_at=now,
            centers=len(pages_by_center),
            stations=stations,
            pages=sum(pages_by_center.values()),
        )
        if not finished:
            logger.warning("Run %s is no longer running; its outcome stays as it is", run_id)
            return None
        for center_pk, pages in pages_by_center.items():
            PollingCenter.objects.filter(pk=center_pk).update(rolls_generated_at=now, roll_pages=pages)
    run = RollRun.objects.get(pk=run_id)
    logger.info(
        "%s finished in %s: %d centers, %d stations, %d pages, %d tasks",
        run, run.duration, run.centers, run.stations, run.pages, run.tasks,
    )  # fmt: skip
    return run


def fail_run(run_id, error):
    """Record why the run failed; a run already ended keeps its first outcome."""
    updated = RollRun.objects.filter(pk=run_id, status__in=RollRun.ACTIVE).update(
        status=RollRun.Status.FAILED, finished_at=timezone.now(), error=str(error)
    )
    if updated:
        logger.error("Run %s failed: %s", run_id, error)


def fail_stalled_runs():
    """Mark runs queued or running for longer than VOTERROLL_STALLED_AFTER as failed.

    Their last task will not come any more (a lost message, a killed worker), and while
    they look active no other run may start.
    """
    stalled_after = timedelta(seconds=settings.VOTERROLL_STALLED_AFTER)
    cutoff = timezone.now() - stalled_after
    stalled = list(RollRun.objects.filter(status__in=RollRun.ACTIVE, queued_at__lt=cutoff))
    for run in stalled:
        fail_run(
            run.pk,
            f"Stalled: still {run.status} {stalled_after} after it was queued; its tasks were "
            "lost or never completed (worker stopped, message lost, or a sub-task failed "
            "outside a chord). Marked failed by the watchdog so other runs can start.",
        )
    return len(stalled)
