"""The options: the same work (voterroll.writing) distributed in different Celery canvases.

Every option is a task named as its voterroll.models.Option value (see ``option``), taking a
RollRun id; runs are queued through voterroll.runs.queue_run. The unit tasks (a station, a center) are shared;
only the orchestration differs, so the worker log and the run's timeline show how the options
differ. A unit gets its center's pk, public id and name in the message, so that it makes one
query (its voters) before it writes.
"""

import functools
import time
import uuid

from celery import group, shared_task, signals
from celery.utils.log import get_task_logger

from project.tasks import DatabaseTask

from . import pdf, runs, writing
from .models import PollingCenter, RollRun
from .stations import assign_stations, centers_with_voters, station_chunks, stations_of

logger = get_task_logger(__name__)

# Options 1 and 5a write every roll in one task: long on purpose, the thing the talk
# warns about (it cannot finish inside a 30 s graceful-shutdown window at scale).
LONG_RUNNING = {"soft_time_limit": 60 * 60, "time_limit": 60 * 60 + 30}
# An orchestrator that assigns every station at once: one set-based statement, a few
# seconds per hundred thousand voters.
ASSIGNING = {"soft_time_limit": 5 * 60, "time_limit": 5 * 60 + 30}


@signals.worker_init.connect
def load_font(**kwargs):
    """Parse the rolls' TrueType font in the worker before it forks its pool processes, which
    would each parse it again at their first station (about 0.1 s)."""
    pdf.font()


class RunTask(DatabaseTask):
    """A task whose first argument is a run id: when it raises, the run records the error."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        runs.fail_run(args[0], f"{self.name} raised {exc!r}")


def option(**limits):
    """An option's task, named as the function: it takes a run id, claims the queued run and
    calls the function with the run and the time it started; a run it cannot claim is not its
    own (see runs.mark_running), and it stops. Delivered again after a crash, it calls the
    function again, which sends the same tasks under the same ids (see ``task_id``)."""

    def decorate(function):
        @shared_task(base=RunTask, bind=True, ignore_result=True, **limits)
        @functools.wraps(function)
        def task(self, run_id):
            started = time.time()
            run = runs.mark_running(run_id, self.request.id)
            if run is not None:
                function(run, started)

        return task

    return decorate


def scope(run):
    """The center pks a run covers: its one center, or None for all."""
    return [run.center_id] if run.center_id else None


def center_message(center):
    """What a unit needs of its center, to send along instead of loading it again."""
    return [center.pk, center.number, center.name]


def center_of(message):
    pk, number, name = message
    return PollingCenter(pk=pk, number=number, name=name)


def station_arguments(run, stations):
    """A station unit's arguments for each (center pk, station, voters) of ``stations``."""
    centers = PollingCenter.objects.in_bulk({center_pk for center_pk, _, _ in stations})
    return [(run.pk, center_message(centers[center_pk]), station) for center_pk, station, _ in stations]


def task_id(run, *parts):
    """The id of one of the run's tasks, the same each time it is sent.

    An option's task delivered again after its worker died sends its canvas again: under the
    same ids those are the same tasks, which the result backend counts once per header task
    and whose rolls are written again whole, not new ones beside them.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, [run.output_dir, *parts]))))


def send_chord(header, body, group_id):
    """``header | body`` under fixed ids: the header's group, as the chord's own id (a group
    piped into a task loses its own options), and the body, as it was given."""
    return (header | body).set(task_id=group_id).apply_async(task_id=body.options["task_id"])


def sum_pages_when_done(run, orchestrator_started, *earlier_bars, one_task=False):
    """The chord body every option ends with; a failure anywhere in the chord fails the run.

    It takes the bars of the tasks that came before it (this orchestrator's included) for the
    run's timeline, so that nothing writes to the database per task to record them.
    ``one_task``: the tallies all come from one task (a starmap), drawn as one bar.
    """
    bars = [*earlier_bars, writing.bar("orchestrator", orchestrator_started)]
    body = sum_pages.s(run.pk, bars, one_task).set(task_id=task_id(run, "sum_pages"))
    return body.on_error(record_failure.s(run.pk))


def queue_station_chord(run, stations, started, *earlier_bars, tasks_before=1):
    """Write each station's roll in its own task, in parallel, then sum the pages."""
    runs.count_tasks(run.pk, tasks_before + len(stations) + 1)
    header = group(
        write_station_roll.s(*arguments).set(task_id=task_id(run, "station", center_pk, station))
        for arguments, (center_pk, station, _) in zip(station_arguments(run, stations), stations, strict=True)
    )
    send_chord(header, sum_pages_when_done(run, started, *earlier_bars), task_id(run, "stations"))
    logger.info("Run %s: queued %d station tasks and a chord to sum their pages", run.pk, len(stations))


def center_group(run, task):
    """``task`` for each of the run's centers, as a group: (the group, how many)."""
    centers = centers_with_voters(run.center_id)
    tasks = (task.s(run.pk, center_message(c)).set(task_id=task_id(run, task.name, c.pk)) for c in centers)
    return group(tasks), len(centers)


# The units of work.


@shared_task
def write_station_roll(run_id, center, station):
    return writing.write_station_roll(run_id, center_of(center), station)


@shared_task
def write_station_rolls(run_id, stations):
    """A chunk: several (center, station) pairs, their voters read in one statement."""
    return writing.write_station_rolls(run_id, [(center_of(center), station) for center, station in stations])


@shared_task
def write_center_rolls(run_id, center):
    return writing.write_center_rolls(run_id, center_of(center))


@shared_task
def assign_center_stations(run_id, center):
    return writing.assign_center_stations(run_id, center_of(center))


@shared_task(ignore_result=True)
def sum_pages(tallies, run_id, bars, one_task):
    """Chord body: complete the run from its units' tallies (a list of them for a chunk)."""
    started = time.time()
    bars = [*bars, *runs.task_bars(tallies, one_task)]
    runs.finish_run(run_id, tallies, [*bars, writing.bar("callback", started)])


@shared_task(ignore_result=True)
def fail_when_done(run_id):
    """Option 2's last task: its center tasks have ended, the run fails with the error it noted."""
    runs.fail_run(run_id, RollRun.objects.get(pk=run_id).error)


@shared_task(ignore_result=True)
def record_failure(request, exc, traceback, run_id):
    """Error callback: called in the worker where a chord or chain failed."""
    runs.fail_run(run_id, f"Task {request.id} failed: {exc}")


# The options.


@option(**LONG_RUNNING)
def all_in_one(run, started):
    """Option 1: everything in one task, one station after the other."""
    voters = assign_stations(scope(run))
    logger.info("Run %s: %d voters assigned to stations", run.pk, voters)
    stations = stations_of(scope(run))
    centers = PollingCenter.objects.in_bulk({center_pk for center_pk, _, _ in stations})
    tallies = []
    for center_pk, station, _ in stations:
        tally = writing.write_station_roll(run.pk, centers[center_pk], station)
        if tally is None:
            return  # the run ended meanwhile (writing logged it)
        tallies.append(tally)
    runs.finish_run(run.pk, tallies, [writing.bar("orchestrator", started)])


@option()
def parallelize_tasks_by_center_with_join(run, started):
    """Option 2, the anti-pattern: wait inside a task for a group of per-center tasks.

    Celery refuses ("Never call result.get() within a task!") rather than let a worker
    process sit blocked. The group was sent already, so the per-center tasks still run and
    write their rolls, but nothing sums their pages. The run keeps its lock (no other run,
    no new fake data) until they have ended: then it is failed with Celery's refusal.
    """
    header, centers = center_group(run, write_center_rolls)
    runs.count_tasks(run.pk, 1 + centers + 1)
    body = fail_when_done.si(run.pk).set(task_id=task_id(run, "fail_when_done"))
    result = send_chord(header, body, task_id(run, "centers"))
    logger.info("Run %s: queued %d center tasks; now waiting on them (refused)", run.pk, centers)
    try:
        result.get()
    except RuntimeError as refusal:
        runs.note_error(run.pk, f"{run.option} raised {refusal!r}")


@option()
def queue_tasks_by_center_with_chord(run, started):
    """Option 3: a task per center (assign, then write its stations' rolls), chord to sum pages."""
    header, centers = center_group(run, write_center_rolls)
    runs.count_tasks(run.pk, 1 + centers + 1)
    send_chord(header, sum_pages_when_done(run, started), task_id(run, "centers"))
    logger.info("Run %s: queued %d center tasks and a chord to sum their pages", run.pk, centers)


@option()
def assign_all_stations_in_parallel(run, started):
    """Option 4, the other anti-pattern: station assignment fanned out, a task per center.

    Assignment is quick database work; in parallel it only adds messages and contends
    for the database. Once every center is assigned, printing goes on as in option 5b.
    """
    header, centers = center_group(run, assign_center_stations)
    runs.count_tasks(run.pk, 1 + centers + 1)
    callback = write_rolls_by_station.s(run.pk, writing.bar("orchestrator", started))
    callback = callback.set(task_id=task_id(run, "write_rolls_by_station"))
    send_chord(header, callback.on_error(record_failure.s(run.pk)), task_id(run, "assignments"))
    logger.info("Run %s: queued %d station-assignment tasks", run.pk, centers)


@shared_task(base=RunTask, ignore_result=True)
def write_rolls_by_station(assignments, run_id, orchestrator_bar):
    """Option 4's second step: write the rolls of the stations assigned, if the run still runs."""
    started = time.time()
    run = RollRun.objects.get(pk=run_id)
    if run.status != RollRun.Status.RUNNING:
        logger.warning("Run %s is %s, not running: its rolls are not written", run_id, run.status)
        return
    stations = stations_of(scope(run))
    queue_station_chord(
        run, stations, started, orchestrator_bar, *assignments, tasks_before=1 + len(assignments) + 1
    )


@option(**ASSIGNING)
def assign_stations_and_generate_lists_with_starmap(run, started):
    """Option 5a: assign all stations, then starmap over them.

    starmap is one task that calls the station task for each argument tuple in turn,
    not in parallel: as slow as option 1.
    """
    voters = assign_stations(scope(run))
    stations = stations_of(scope(run))
    runs.count_tasks(run.pk, 3)
    starmap = write_station_roll.starmap(station_arguments(run, stations))
    starmap = starmap.set(task_id=task_id(run, "starmap"), **LONG_RUNNING)
    (starmap | sum_pages_when_done(run, started, one_task=True)).delay()
    logger.info(
        "Run %s: %d voters assigned; queued a starmap over %d stations", run.pk, voters, len(stations)
    )


@option(**ASSIGNING)
def assign_stations_and_generate_lists_with_chord(run, started):
    """Option 5b: assign all stations in one statement, then a task per station in parallel.

    Also what saving a center in the admin runs, scoped to that center.
    """
    voters = assign_stations(scope(run))
    logger.info("Run %s: %d voters assigned to stations", run.pk, voters)
    queue_station_chord(run, stations_of(scope(run)), started)


@option(**ASSIGNING)
def assign_stations_and_generate_lists_in_chunks(run, started):
    """Option 5c: as 5b, but each task writes a chunk of stations, VOTERROLL_CHUNK_SECONDS of work.

    A station alone is a few milliseconds of writing, so in 5b the cost of each task (its
    message, its result, the chord's count, its query) is a large share; a chunk spreads that
    cost over many stations and still ends far inside a 30 s shutdown window. The chunks are
    cut where the pages balance, and each reads its stations' voters in one statement, which
    Celery's own chunks (a starmap of the station task) could not: one query per station was a
    fifth of the worker's time on PostgreSQL.
    """
    voters = assign_stations(scope(run))
    chunks = station_chunks(stations_of(scope(run)))
    header = group(
        write_station_rolls.s(
            run.pk, [(center, station) for _, center, station in station_arguments(run, chunk)]
        ).set(task_id=task_id(run, "chunk", number))
        for number, chunk in enumerate(chunks)
    )
    runs.count_tasks(run.pk, 1 + len(chunks) + 1)
    send_chord(header, sum_pages_when_done(run, started), task_id(run, "chunks"))
    logger.info("Run %s: %d voters assigned; queued %d chunks of stations", run.pk, voters, len(header.tasks))


@option(**ASSIGNING)
def group_with_error_in_sub_task(run, started):
    """Option 5b with one sub-task asking for a station past a center's last one.

    That sub-task raises; the others still write their rolls. The chord body never runs: its error
    callback records the failure on the run.
    """
    assign_stations(scope(run))
    stations = stations_of(scope(run))
    center_pk = stations[0][0]
    last_station = max(station for pk, station, _ in stations if pk == center_pk)
    queue_station_chord(run, stations + [(center_pk, last_station + 1, 0)], started)


@shared_task(ignore_result=True)
def delete_old_files():
    """Beat, daily: the rolls of runs ended more than VOTERROLL_KEEP_FILES_DAYS ago (see runs)."""
    deleted = runs.delete_old_files()
    logger.info("Deleted the rolls of %d runs past VOTERROLL_KEEP_FILES_DAYS", deleted)
    return deleted


@shared_task(ignore_result=True)
def fail_stalled_runs():
    """Beat: fail runs that have been queued or running for too long (see runs)."""
    failed = runs.fail_stalled_runs()
    logger.info("Marked %d stalled voter-roll runs failed", failed)
    return failed
