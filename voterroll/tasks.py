"""The options: the same work (voterroll.writing) distributed in different Celery canvases.

Every option of the registry (voterroll.options) is a task made with ``option``, taking a
RollRun id; runs start through voterroll.runs.start_run. The unit tasks (a station, a
center) are shared; only the orchestration differs, so the worker log and the run's timeline
show how the options differ. A unit gets its center's reference (voterroll.units) in the
message, so that it makes one query (its voters) before it writes. Tasks only orchestrate:
the work is in voterroll.writing, voterroll.runs and voterroll.retention.
"""

import functools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from celery import chord, current_app, group, shared_task, signals
from celery.canvas import Signature, _chain
from celery.utils.log import get_task_logger
from django.conf import settings

from project.tasks import DatabaseTask

from . import pdf, register_file, retention, runs, timeline, writing
from .models import PollingCenter, RollRun
from .stations import (
    assign_batch,
    assign_stations,
    assignment_batches,
    batches_pay,
    centers_with_voters,
    planned_stations,
    station_chunks,
    stations_of,
)
from .units import CenterRef, Plan, Station, StationRef

logger = get_task_logger(__name__)

# Options 1 and 5a write every roll in one task: long on purpose, the thing the talk
# warns about (it cannot finish inside a 30 s graceful-shutdown window at scale).
LONG_RUNNING = {"soft_time_limit": 60 * 60, "time_limit": 60 * 60 + 30}
# A task that assigns every station, at once or in batches: set-based statements, a few
# seconds per hundred thousand voters.
ASSIGNING = {"soft_time_limit": 5 * 60, "time_limit": 5 * 60 + 30}
# Seconds to wait for the workers' answers to a broadcast: they come in tens of milliseconds.
WORKERS_ANSWER_WITHIN = 0.25


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


def scope(run: RollRun) -> list[int] | None:
    """The center pks a run covers: its one center, or None for all."""
    return [run.center_id] if run.center_id else None


def station_refs(stations: list[Station]) -> list[StationRef]:
    """What a unit is sent for each of ``stations``: its center's number and name come along."""
    centers = PollingCenter.objects.in_bulk({station.center_pk for station in stations})
    return [StationRef(CenterRef.of(centers[station.center_pk]), station.station) for station in stations]


def worker_processes() -> int:
    """How many processes the workers consuming this app's queue run between them, asked of
    them; CELERY_WORKER_CONCURRENCY (what a worker started without --concurrency runs) when
    none answers in time.

    Two broadcasts: which workers consume the queue (waits WORKERS_ANSWER_WITHIN, since how many
    will answer is not known), then their pool sizes (ends with the last of their answers).
    """
    queue = current_app.conf.task_default_queue
    answers = current_app.control.inspect(timeout=WORKERS_ANSWER_WITHIN).active_queues() or {}
    consuming = [name for name, queues in answers.items() if any(q["name"] == queue for q in queues)]
    if consuming:
        ask = current_app.control.inspect(consuming, timeout=WORKERS_ANSWER_WITHIN, limit=len(consuming))
        processes = sum(stats["pool"]["max-concurrency"] for stats in (ask.stats() or {}).values())
        if processes:
            return processes
    return settings.CELERY_WORKER_CONCURRENCY


def task_id(run, *parts):
    """The id of one of the run's tasks, the same each time it is sent.

    An option's task delivered again after its worker died sends its canvas again: under the
    same ids those are the same tasks, which the result backend counts once per header task
    and whose rolls are written again whole, not new ones beside them.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, [run.output_dir, *parts]))))


def canvas_size(canvas: Signature) -> int:
    """How many tasks ``canvas`` runs when it succeeds: every member of its groups, chains and
    chords (an error callback runs only on failure; a starmap is one task)."""
    if isinstance(canvas, chord):
        return canvas_size(canvas.tasks) + canvas_size(canvas.body)
    if isinstance(canvas, group | _chain):
        return sum(canvas_size(task) for task in canvas.tasks)
    if isinstance(canvas, list | tuple):  # a chord's header, as a plain list
        return sum(canvas_size(task) for task in canvas)
    return 1


def send_counted(run: RollRun, canvas: Signature, tasks_before: int = 1, plan: Plan | None = None, **options):
    """Send ``canvas`` and record how many tasks the run has sent: ``tasks_before`` (the
    option's own task, and whatever came before it) and every task of the canvas; and its
    ``plan``, for the run's progress.

    A total, not an increment: a task delivered again and sending its canvas again counts it once.
    """
    runs.record_sent(run.pk, tasks_before + canvas_size(canvas), plan)
    return canvas.apply_async(**options)


def send_chord(
    run: RollRun,
    header: group,
    body: Signature,
    group_id: str,
    tasks_before: int = 1,
    stations: list[Station] | None = None,
):
    """``header | body``, counted, under fixed ids: the header's group, as the chord's own id (a
    group piped into a task loses its own options), and the body, as it was given. The run's
    progress is told from the header's results, against ``stations`` when they are known."""
    canvas = (header | body).set(task_id=group_id)
    plan = Plan(group_id, *planned(stations) if stations is not None else (None, None))
    return send_counted(run, canvas, tasks_before, plan, task_id=body.options["task_id"])


def planned(stations: list[Station]) -> tuple[int, int]:
    """The stations and roll pages a canvas over ``stations`` will write."""
    return len(stations), sum(pdf.roll_pages(station.voters) for station in stations)


def sum_pages_when_done(run, orchestrator_started, *earlier_bars, one_task=False):
    """The chord body every option ends with; a failure anywhere in the chord fails the run.

    It takes the bars of the tasks that came before it (this orchestrator's included) for the
    run's timeline, so that nothing writes to the database per task to record them.
    ``one_task``: the tallies all come from one task (a starmap), drawn as one bar.
    """
    bars = [*earlier_bars, writing.bar("orchestrator", orchestrator_started)]
    body = sum_pages.s(run.pk, bars, one_task).set(task_id=task_id(run, "sum_pages"))
    return body.on_error(record_failure.s(run.pk))


def queue_station_chord(run, stations: list[Station], started, *earlier_bars, tasks_before=1):
    """Write each station's roll in its own task, in parallel, then sum the pages."""
    header = group(
        write_station_roll.s(run.pk, *ref).set(task_id=task_id(run, "station", ref.center.pk, ref.station))
        for ref in station_refs(stations)
    )
    body = sum_pages_when_done(run, started, *earlier_bars)
    send_chord(run, header, body, task_id(run, "stations"), tasks_before, stations)
    logger.info("Run %s: queued %d station tasks and a chord to sum their pages", run.pk, len(stations))


def center_group(run: RollRun, task) -> group:
    """``task`` for each of the run's centers, as a group."""
    centers = centers_with_voters(run.center_id)
    return group(
        task.s(run.pk, CenterRef.of(center)).set(task_id=task_id(run, task.name, center.pk))
        for center in centers
    )


# The units of work.


# The units of work. Their names are the tasks'; the work they call is named for what it does.


@shared_task
def write_station_roll(run_id, center, station):
    return writing.write_station(run_id, StationRef(CenterRef(*center), station))


@shared_task
def write_station_rolls(run_id, stations):
    """A chunk: several stations, their voters read in one statement."""
    return writing.write_stations(run_id, [StationRef.from_message(station) for station in stations])


@shared_task
def write_center_rolls(run_id, center):
    return writing.write_center(run_id, CenterRef(*center))


@shared_task
def assign_center_stations(run_id, center):
    return writing.assign_center(run_id, CenterRef(*center))


@shared_task(ignore_result=True)
def sum_pages(results, run_id, bars, one_task):
    """Chord body: complete the run from its units' results (a list of tallies for a chunk)."""
    started = time.time()
    bars = [*bars, *timeline.task_bars(results, one_task)]
    runs.finish_run(run_id, results, [*bars, writing.bar("callback", started)])


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
    runs.record_sent(run.pk, 1, Plan("", *planned(stations)))  # one task: nothing stored until it ends
    tallies = []
    for station in station_refs(stations):
        tally = writing.write_station(run.pk, station)
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
    header = center_group(run, write_center_rolls)
    body = fail_when_done.si(run.pk).set(task_id=task_id(run, "fail_when_done"))
    result = send_chord(run, header, body, task_id(run, "centers"))
    logger.info("Run %s: queued %d center tasks; now waiting on them (refused)", run.pk, len(header.tasks))
    try:
        result.get()
    except RuntimeError as refusal:
        runs.note_error(run.pk, f"{run.option} raised {refusal!r}")


@option()
def queue_tasks_by_center_with_chord(run, started):
    """Option 3: a task per center (assign, then write its stations' rolls), chord to sum pages."""
    header = center_group(run, write_center_rolls)
    send_chord(run, header, sum_pages_when_done(run, started), task_id(run, "centers"))
    logger.info("Run %s: queued %d center tasks and a chord to sum their pages", run.pk, len(header.tasks))


@option()
def assign_all_stations_in_parallel(run, started):
    """Option 4, the other anti-pattern: station assignment fanned out, a task per center.

    Assignment is quick database work; in parallel it only adds messages and contends
    for the database. Once every center is assigned, printing goes on as in option 5b.
    """
    header = center_group(run, assign_center_stations)
    # What the second step's chord comes after: this task, the assignments and that step itself.
    tasks_before = 1 + canvas_size(header) + 1
    callback = write_rolls_by_station.s(run.pk, writing.bar("orchestrator", started), tasks_before)
    callback = callback.set(task_id=task_id(run, "write_rolls_by_station"))
    send_chord(run, header, callback.on_error(record_failure.s(run.pk)), task_id(run, "assignments"))
    logger.info("Run %s: queued %d station-assignment tasks", run.pk, len(header.tasks))


@shared_task(base=RunTask, ignore_result=True)
def write_rolls_by_station(assignments, run_id, orchestrator_bar, tasks_before):
    """Option 4's second step: write the rolls of the stations assigned, if the run still runs."""
    started = time.time()
    run = RollRun.objects.running().filter(pk=run_id).first()
    if run is None:
        logger.warning("Run %s is no longer running: its rolls are not written", run_id)
        return
    stations = stations_of(scope(run))
    queue_station_chord(run, stations, started, orchestrator_bar, *assignments, tasks_before=tasks_before)


@option(**ASSIGNING)
def assign_stations_and_generate_lists_with_starmap(run, started):
    """Option 5a: assign all stations, then starmap over them.

    starmap is one task that calls the station task for each argument tuple in turn,
    not in parallel: as slow as option 1.
    """
    voters = assign_stations(scope(run))
    stations = stations_of(scope(run))
    starmap = write_station_roll.starmap([(run.pk, *ref) for ref in station_refs(stations)])
    starmap = starmap.set(task_id=task_id(run, "starmap"), **LONG_RUNNING)
    plan = Plan("", *planned(stations))  # one task: nothing stored until it ends
    send_counted(run, starmap | sum_pages_when_done(run, started, one_task=True), plan=plan)
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


@option()
def assign_stations_and_generate_lists_in_chunks(run, started):
    """Option 5c: as 5b, but each task writes a chunk of stations, VOTERROLL_CHUNK_SECONDS of work,
    and the chunks are written while the stations are assigned.

    A station alone is a few milliseconds of writing, so in 5b the cost of each task (its
    message, its result, the chord's count, its query) is a large share; a chunk spreads that
    cost over many stations and still ends far inside a 30 s shutdown window. The chunks are
    cut where the pages balance, and each reads its stations' voters in one statement, which
    Celery's own chunks (a starmap of the station task) could not: one query per station was a
    fifth of the worker's time on PostgreSQL.

    Assigning every station at once kept every process waiting (a few seconds a million
    voters). Here one count per center plans the stations, and the chord's header is one task
    that assigns them batch by batch and adds each batch's chunks to the chord as it goes
    (assign_and_add_chunks). One task, not one per center: that is option 4's anti-pattern.
    On PostgreSQL batches cost more than they hide, and it assigns in one (see batches_pay).
    """
    stations = planned_stations(scope(run))
    batches = assignment_batches(stations) if batches_pay() else [stations]
    assigner = assign_and_add_chunks.s(run.pk, batches).set(task_id=task_id(run, "assigner"))
    body = sum_pages_when_done(run, started)
    send_chord(run, group([assigner]), body, task_id(run, "chunks"), stations=stations)
    logger.info(
        "Run %s: %d stations planned; queued their assignment in %d batches",
        run.pk,
        len(stations),
        len(batches),
    )


@shared_task(base=RunTask, bind=True, **ASSIGNING)
def assign_and_add_chunks(self, run_id, batches):
    """Option 5c's assigner, its chord's header: assign each batch of stations, then add its
    chunks to the chord and send them, so that the other processes write while it assigns the
    next. Returns its bar.

    The chord's body cannot run before it returns (it is a header task), by when every chunk is
    counted. The last batch is cut into a chunk for each of the workers' processes at least,
    asked meanwhile, so that none idles at the end.
    """
    started = time.time()
    run = RollRun.objects.running().filter(pk=run_id).first()
    if run is None:  # delivered again after its run ended: the stations may be another run's now
        logger.warning("Run %s is no longer running: its stations are not assigned", run_id)
        return writing.bar("assigner", started)
    sent = 0
    with ThreadPoolExecutor(1) as asking:
        processes = asking.submit(worker_processes)  # asked while the first batches are assigned
        for number, batch in enumerate(batches):
            batch = [Station(*station) for station in batch]
            centers = sorted({station.center_pk for station in batch})
            voters = assign_batch(centers, first=number == 0, every_center=scope(run) is None)
            last = number == len(batches) - 1
            for chunk in station_chunks(batch, processes.result() if last else 1):
                chunk_id = task_id(run, "chunk", sent)
                self.add_to_chord(write_station_rolls.s(run_id, station_refs(chunk)).set(task_id=chunk_id))
                sent += 1
            logger.info("Run %s: batch %d, %d voters assigned; %d chunks sent", run_id, number, voters, sent)
    runs.record_sent(run_id, 1 + 1 + sent + 1)  # the option's task, this one, the chunks, the body
    return writing.bar("assigner", started)


@option(**ASSIGNING)
def group_with_error_in_sub_task(run, started):
    """Option 5b with one sub-task asking for a station past a center's last one.

    That sub-task raises; the others still write their rolls. The chord body never runs: its error
    callback records the failure on the run.
    """
    assign_stations(scope(run))
    stations = stations_of(scope(run))
    center_pk = stations[0].center_pk
    last_station = max(station.station for station in stations if station.center_pk == center_pk)
    queue_station_chord(run, [*stations, Station(center_pk, last_station + 1, 0)], started)


@shared_task(ignore_result=True)
def delete_old_files():
    """Beat, daily: the rolls of runs ended more than VOTERROLL_KEEP_FILES_DAYS ago."""
    deleted = retention.delete_expired_files()
    logger.info("Deleted the rolls of %d runs past VOTERROLL_KEEP_FILES_DAYS", deleted)
    return deleted


@shared_task(ignore_result=True)
def fail_stalled_runs():
    """Beat: fail runs whose tasks gave no sign of life for too long (see runs.fail_stalled)."""
    failed = runs.fail_stalled()
    logger.info("Marked %d stalled voter-roll runs failed", failed)
    return failed


class RegisterTask(DatabaseTask):
    """A task whose first argument is an uploaded register's id: when it raises, the register
    records the error."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        register_file.fail_upload(args[0], f"{self.name} raised {exc!r}")


@shared_task(base=RegisterTask, ignore_result=True, **register_file.IMPORTING)
def import_register(register_id):
    """Import a register uploaded in the admin (voterroll.register_file.import_upload)."""
    register_file.import_upload(register_id)
