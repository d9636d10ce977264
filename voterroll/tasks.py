"""The options: the same work (voterroll.rolls) distributed in different Celery canvases.

Every option is a task named as in voterroll.models.Option, taking a RollRun id. The unit
tasks (a station, a center) are shared; only the orchestration differs, so the worker log
shows how the options differ. Runs are queued through ``queue_run``.
"""
from functools import partial

from celery import Task, group, shared_task
from celery.utils.log import get_task_logger
from django.db import transaction

from . import rolls, runs
from .models import Option, PollingCenter, RollRun, VoterRegistration, run_folder
from .stations import assign_stations, stations_of

logger = get_task_logger(__name__)

# Options 1 and 5a do all the printing in one task: long on purpose, the thing the talk
# warns about (it cannot finish inside a 30 s graceful-shutdown window at scale).
LONG_RUNNING = {"soft_time_limit": 60 * 60, "time_limit": 60 * 60 + 30}
# An orchestrator that assigns every station at once: one set-based statement, a few
# seconds per hundred thousand voters.
ASSIGNING = {"soft_time_limit": 5 * 60, "time_limit": 5 * 60 + 30}


def queue_run(option, center=None):
    """Create a queued run of ``option`` and send its task once the run is committed.

    Raises runs.RunRefused (with a message for the user) when it cannot start, or when
    the broker refuses its task: at once outside a transaction, else when it commits.
    """
    run = runs.create_run(option, center)
    transaction.on_commit(partial(send_run, run.pk, OPTION_TASKS[option]))
    return run


def send_run(run_id, task):
    """Send the run's first task; if the broker refuses it, fail the run (not stuck queued) and say so."""
    try:
        task.delay(run_id)
    except Exception as exc:
        error = f"Could not queue {task.name}: {exc!r}"
        runs.fail_run(run_id, error)
        raise runs.RunRefused(f"Run {run_id} failed: {error}. Is the broker running?") from exc


class RunTask(Task):
    """A task whose first argument is a run id: when it raises, the run records the error."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        runs.fail_run(args[0], f"{self.name} raised {exc!r}")


def scope(run):
    """The center pks a run covers: its one center, or None for all."""
    return [run.center_id] if run.center_id else None


def centers_with_voters(run):
    centers = VoterRegistration.objects.values_list("center_id", flat=True).distinct()
    if run.center_id:
        centers = centers.filter(center_id=run.center_id)
    return sorted(centers)


def sum_pages_when_done(run_id):
    """The chord body every option ends with; a failure anywhere in the chord fails the run."""
    return sum_pages.s(run_id).on_error(record_failure.s(run_id))


def queue_station_chord(run, pairs):
    """Print each (center, station) in its own task, in parallel, then sum the pages."""
    runs.add_tasks(run.pk, len(pairs) + 1)
    header = group(
        generate_station_list.s(run.pk, run.output_dir, center_pk, station) for center_pk, station in pairs
    )
    (header | sum_pages_when_done(run.pk)).delay()
    logger.info("Run %s: queued %d station tasks and a chord to sum their pages", run.pk, len(pairs))


# The units of work.


@shared_task
def generate_station_list(run_id, output_dir, center_pk, station):
    center = PollingCenter.objects.get(pk=center_pk)
    return rolls.print_station(run_id, run_folder(output_dir), center, station)


@shared_task
def generate_center_lists(run_id, output_dir, center_pk):
    center = PollingCenter.objects.get(pk=center_pk)
    return rolls.print_center(run_id, run_folder(output_dir), center)


@shared_task
def assign_center_stations(run_id, center_pk):
    return rolls.assign_center_stations(run_id, PollingCenter.objects.get(pk=center_pk))


@shared_task
def sum_pages(tallies, run_id):
    """Chord body: complete the run from its units' tallies."""
    run = runs.finish_run(run_id, tallies)
    return run.pages if run else None


@shared_task
def record_failure(request, exc, traceback, run_id):
    """Error callback: called in the worker where a chord or chain failed."""
    runs.fail_run(run_id, f"Task {request.id} failed: {exc}")


# The options.


@shared_task(base=RunTask, **LONG_RUNNING)
def all_in_one(run_id):
    """Option 1: everything in one task, one station after the other."""
    run = runs.mark_running(run_id)
    if run is None:
        return
    voters = assign_stations(scope(run))
    logger.info("Run %s: %d voters assigned to stations", run_id, voters)
    pairs = stations_of(scope(run))
    centers = PollingCenter.objects.in_bulk({center_pk for center_pk, _ in pairs})
    tallies = [
        rolls.print_station(run_id, run.output_path, centers[center_pk], station)
        for center_pk, station in pairs
    ]
    runs.finish_run(run_id, tallies)


@shared_task(base=RunTask)
def parallelize_tasks_by_center_with_join(run_id):
    """Option 2, the anti-pattern: wait inside a task for a group of per-center tasks.

    Celery refuses ("Never call result.get() within a task!") rather than let a worker
    process sit blocked; RunTask records that on the run. The group was sent already, so
    the per-center tasks still run and write their PDFs, but nothing sums their pages.
    """
    run = runs.mark_running(run_id)
    if run is None:
        return
    centers = centers_with_voters(run)
    runs.add_tasks(run_id, len(centers))
    header = group(generate_center_lists.s(run_id, run.output_dir, center_pk) for center_pk in centers)
    result = header.delay()
    logger.info("Run %s: queued %d center tasks; now waiting on them (refused)", run_id, len(centers))
    runs.finish_run(run_id, result.get())


@shared_task(base=RunTask)
def queue_tasks_by_center_with_chord(run_id):
    """Option 3: a task per center (assign, then print its stations), chord to sum pages."""
    run = runs.mark_running(run_id)
    if run is None:
        return
    centers = centers_with_voters(run)
    runs.add_tasks(run_id, len(centers) + 1)
    header = group(generate_center_lists.s(run_id, run.output_dir, center_pk) for center_pk in centers)
    (header | sum_pages_when_done(run_id)).delay()
    logger.info("Run %s: queued %d center tasks and a chord to sum their pages", run_id, len(centers))


@shared_task(base=RunTask)
def assign_all_stations_in_parallel(run_id):
    """Option 4, the other anti-pattern: station assignment fanned out, a task per center.

    Assignment is quick database work; in parallel it only adds messages and contends
    for the database. Once every center is assigned, printing goes on as in option 5b.
    """
    run = runs.mark_running(run_id)
    if run is None:
        return
    centers = centers_with_voters(run)
    runs.add_tasks(run_id, len(centers) + 1)
    header = group(assign_center_stations.s(run_id, center_pk) for center_pk in centers)
    callback = generate_lists_by_station.si(run_id).on_error(record_failure.s(run_id))
    (header | callback).delay()
    logger.info("Run %s: queued %d station-assignment tasks", run_id, len(centers))


@shared_task(base=RunTask)
def generate_lists_by_station(run_id):
    """Option 4's second step: print the stations already assigned, if the run still runs."""
    run = RollRun.objects.get(pk=run_id)
    if run.status != RollRun.Status.RUNNING:
        logger.warning("Run %s is %s, not running: its stations are not printed", run_id, run.status)
        return
    queue_station_chord(run, stations_of(scope(run)))


@shared_task(base=RunTask, **ASSIGNING)
def assign_stations_and_generate_lists_with_starmap(run_id):
    """Option 5a: assign all stations, then starmap over them.

    starmap is one task that calls the station task for each argument tuple in turn,
    not in parallel: as slow as option 1.
    """
    run = runs.mark_running(run_id)
    if run is None:
        return
    voters = assign_stations(scope(run))
    pairs = stations_of(scope(run))
    runs.add_tasks(run_id, 2)
    arguments = [(run_id, run.output_dir, *pair) for pair in pairs]
    starmap = generate_station_list.starmap(arguments).set(**LONG_RUNNING)
    (starmap | sum_pages_when_done(run_id)).delay()
    logger.info(
        "Run %s: %d voters assigned; queued a starmap over %d stations", run_id, voters, len(pairs)
    )


@shared_task(base=RunTask, **ASSIGNING)
def assign_stations_and_generate_lists_with_chord(run_id):
    """Option 5b: assign all stations in one statement, then a task per station in parallel.

    Also what saving a center in the admin runs, scoped to that center.
    """
    run = runs.mark_running(run_id)
    if run is None:
        return
    voters = assign_stations(scope(run))
    logger.info("Run %s: %d voters assigned to stations", run_id, voters)
    queue_station_chord(run, stations_of(scope(run)))


@shared_task(base=RunTask, **ASSIGNING)
def group_with_error_in_sub_task(run_id):
    """Option 5b with one sub-task asking for a station past a center's last one.

    That sub-task raises; the others still print. The chord body never runs: its error
    callback records the failure on the run.
    """
    run = runs.mark_running(run_id)
    if run is None:
        return
    assign_stations(scope(run))
    pairs = stations_of(scope(run))
    center_pk, last_station = pairs[0][0], max(station for pk, station in pairs if pk == pairs[0][0])
    queue_station_chord(run, pairs + [(center_pk, last_station + 1)])


@shared_task
def fail_stalled_runs():
    """Beat: fail runs that have been queued or running for too long (see runs)."""
    failed = runs.fail_stalled_runs()
    logger.info("Marked %d stalled voter-roll runs failed", failed)
    return failed


OPTION_TASKS = {
    Option.ALL_IN_ONE: all_in_one,
    Option.JOIN: parallelize_tasks_by_center_with_join,
    Option.CHORD_BY_CENTER: queue_tasks_by_center_with_chord,
    Option.PARALLEL_ASSIGN: assign_all_stations_in_parallel,
    Option.STARMAP: assign_stations_and_generate_lists_with_starmap,
    Option.CHORD_BY_STATION: assign_stations_and_generate_lists_with_chord,
    Option.ERROR: group_with_error_in_sub_task,
}
