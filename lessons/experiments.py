"""The lessons' experiments: each starts the workers (and beats) its claim is about, runs a
small canvas on them, counts what happened and says whether that is what the claim says.

An experiment gets a lessons.lab.Lab, which stops everything it started however the
experiment ends, and returns a lessons.registry.Outcome. Times are the lesson's own, in
seconds, scaled by LESSONS_TIME_SCALE (Lab.seconds).
"""

from functools import partial

from celery import chord, group
from celery.canvas import chunks, xstarmap
from django.db import transaction
from django.forms.models import model_to_dict

from . import tasks
from .models import Specimen
from .registry import Outcome, lesson


def send(app, task, *args, **options):
    """Send ``task`` with ``args`` through the lesson's ``app`` (its broker and queue)."""
    return signature(app, task, *args).apply_async(**options)


def signature(app, task, *args, **kwargs):
    return app.signature(task.name, args=args, kwargs=kwargs)


def skipped(problem):
    return Outcome(None, f"skipped: {problem}", {"skipped": problem})


def counts(lab, variant, *events):
    return {event: len(lab.events(variant, event)) for event in events}


@lesson(
    "visibility-timeout",
    "Redis delivers a waiting task again after its visibility timeout",
    claim=(
        "With Redis as the broker, a task not acknowledged within the visibility timeout is "
        "delivered again: a task whose countdown is longer runs again and again. RabbitMQ "
        "delivers it once."
    ),
    source="the talk; Celery docs, Using Redis: Caveats (Visibility timeout)",
    stack="Redis and RabbitMQ",
)
def visibility_timeout(lab):
    problem = lab.unreachable("redis")
    if problem:
        return skipped(problem)
    brokers = ["redis"] if lab.unreachable("rabbitmq") else ["redis", "rabbitmq"]
    timeout, countdown = lab.seconds(1), lab.seconds(4)
    # kombu looks for messages to restore every 10 s by default: every timeout here instead.
    redis_options = {
        "visibility_timeout": timeout,
        "unacked_restore_interval": timeout,
        "unacked_restore_throttle": 1,
    }
    confs = {
        "redis": lab.conf("redis", "redis", task_acks_late=True, broker_transport_options=redis_options),
        "rabbitmq": lab.conf("rabbitmq", "rabbitmq", task_acks_late=True),
    }
    confs = {broker: confs[broker] for broker in brokers}
    lab.say(f"Starting a worker on {' and '.join(brokers)} (visibility timeout {timeout:g} s on Redis)…")
    lab.ready(*[lab.worker(broker, conf) for broker, conf in confs.items()])
    for broker, conf in confs.items():
        send(lab.app(conf), tasks.sleeper, broker, "countdown task", 0, countdown=countdown)
    lab.say(f"Sent one task with a countdown of {countdown:g} s to each; waiting for it to run…")
    lab.wait_for(lambda lab: all(lab.events(broker, "end") for broker in brokers), countdown + 20)
    lab.sleep(2)  # deliveries of the same message still due
    ran = {broker: len(lab.events(broker, "start")) for broker in brokers}
    observation = {"visibility_timeout_s": timeout, "countdown_s": countdown, "runs": ran}
    figures = f"on Redis the task ran {ran['redis']} times"
    if "rabbitmq" in ran:
        figures += f", on RabbitMQ {ran['rabbitmq']} time(s)"
    else:
        figures += f" (RabbitMQ side not run: {lab.unreachable('rabbitmq')})"
    confirmed = ran["redis"] > 1 and ran.get("rabbitmq", 1) == 1
    return Outcome(confirmed, f"{'confirmed' if confirmed else 'not confirmed'}: {figures}", observation)


@lesson(
    "shutdown-window",
    "A task longer than the shutdown window: run again with acks_late, lost without",
    claim=(
        "A task longer than the graceful-shutdown window (30 s in Kubernetes) is cut off when its "
        "worker is told to stop: with late acknowledgement it runs again, so it must be "
        "idempotent; acknowledged early, its work is lost."
    ),
    source="the talk",
)
def shutdown_window(lab):
    window, duration = 1, 3
    confs = {
        "acks_late": lab.conf("acks_late", task_acks_late=True),
        "early_ack": lab.conf("early_ack", task_acks_late=False),
    }
    first = {variant: lab.worker(f"{variant}-1", conf, concurrency=1) for variant, conf in confs.items()}
    lab.say("Starting one worker with acks_late and one without…")
    lab.ready(*first.values())
    for variant, conf in confs.items():
        send(lab.app(conf), tasks.sleeper, variant, "long task", lab.seconds(duration))
    lab.wait_for(lambda lab: all(lab.events(variant, "start") for variant in confs), 20)
    lab.say(
        f"A {lab.seconds(duration):g} s task runs on each; stopping both, {lab.seconds(window):g} s window…"
    )
    lab.cut_off(*first.values(), window=window)
    lab.say("Both killed at the end of the window; starting their replacements…")
    lab.ready(*[lab.worker(f"{variant}-2", conf, concurrency=1) for variant, conf in confs.items()])
    lab.wait_for(lambda lab: lab.events("acks_late", "end"), duration + 10)
    lab.sleep(0.5)  # time for the early-acknowledged task to come back, if it ever did
    seen = {variant: counts(lab, variant, "start", "end") for variant in confs}
    observation = {"window_s": lab.seconds(window), "task_s": lab.seconds(duration), **seen}
    late, early = seen["acks_late"], seen["early_ack"]
    confirmed = late == {"start": 2, "end": 1} and early == {"start": 1, "end": 0}
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: with acks_late the task started "
        f"{late['start']} times and finished {late['end']} (cut off, then run again); acknowledged "
        f"early it started {early['start']} time(s) and finished {early['end']} (its work lost)",
        observation,
    )


@lesson(
    "two-beats",
    "Two beats enqueue every periodic task twice",
    claim="Run only ever one beat: two beat processes enqueue every periodic task twice.",
    source="the talk",
)
def two_beats(lab):
    every, window = 0.5, 3
    conf = lab.conf("two_beats")
    lab.say("Starting a worker and two beats, each with the same schedule…")
    worker = lab.worker("worker", conf)
    beats = {
        name: lab.beat(name, conf, tasks.sleeper, ("two_beats", name, 0), lab.seconds(every))
        for name in ("beat-a", "beat-b")
    }
    lab.ready(worker)
    lab.wait_for(lambda lab: {e["label"] for e in lab.events(event="end")} >= set(beats), 30)
    start = lab.now()
    lab.say(f"Both beats have sent their first task; counting for {lab.seconds(window):g} s…")
    lab.sleep(window)
    end = lab.now()
    lab.stop(*beats.values())
    sent = {
        name: len([e for e in lab.events("two_beats", "end") if e["label"] == name and start <= e["t"] < end])
        for name in beats
    }
    scheduled = round((end - start) / lab.seconds(every))
    ran = sum(sent.values())
    observation = {
        "every_s": lab.seconds(every),
        "window_s": end - start,
        "scheduled": scheduled,
        "sent": sent,
    }
    # Each beat keeps the whole schedule by itself (a tick or so lost at the window's ends).
    confirmed = all(count >= scheduled - 2 for count in sent.values())
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: the task scheduled every {lab.seconds(every):g} s "
        f"({scheduled} times in {end - start:.1f} s) ran {ran} times, "
        + ", ".join(f"{count} sent by {name}" for name, count in sent.items()),
        observation,
    )


@lesson(
    "enqueue-on-commit",
    "Enqueue after the transaction commits",
    claim=(
        "A task queued inside a transaction can run before the row it needs exists; queued with "
        "transaction.on_commit, it finds it."
    ),
    source="the talk; Django docs, transaction.on_commit",
)
def enqueue_on_commit(lab):
    conf = lab.conf("on_commit")
    app = lab.app(conf)
    lab.say("Starting a worker…")
    lab.ready(lab.worker("worker", conf, concurrency=1))
    with transaction.atomic():
        row = Specimen.objects.create(run=lab.run, value="new")
        send(app, tasks.look_for, "inside", row.pk)
        lab.say("Sent the task inside the transaction; the transaction goes on with its work…")
        lab.wait_for(lambda lab: lab.events("inside", "end"), 20)
    with transaction.atomic():
        row = Specimen.objects.create(run=lab.run, value="new")
        transaction.on_commit(partial(send, app, tasks.look_for, "on_commit", row.pk))
        lab.sleep(0.5)  # the rest of the transaction's work
    lab.say("Sent the task on commit…")
    lab.wait_for(lambda lab: lab.events("on_commit", "end"), 20)
    found = {variant: [e["found"] for e in lab.events(variant, "end")] for variant in ("inside", "on_commit")}
    confirmed = found == {"inside": [False], "on_commit": [True]}

    def said(variant):
        return {(True,): "found the row", (False,): "did not find the row"}.get(
            tuple(found[variant]), "did not run"
        )

    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: queued inside the transaction the task "
        f"{said('inside')}; queued on commit it {said('on_commit')}",
        {"found": found},
    )


@lesson(
    "pass-pks",
    "Pass primary keys, not objects",
    claim=(
        "A task given an object's data acts on the data as it was when the task was sent, stale "
        "by the time it runs; given the primary key, it reads the row as it is."
    ),
    source="the talk",
)
def pass_pks(lab):
    conf = lab.conf("pks")
    app = lab.app(conf)
    lab.say("Starting a worker…")
    lab.ready(lab.worker("worker", conf, concurrency=1))
    row = Specimen.objects.create(run=lab.run, value="draft")
    countdown = lab.seconds(1)
    send(app, tasks.act_on_data, "data", model_to_dict(row), countdown=countdown)
    send(app, tasks.act_on_pk, "pk", row.pk, countdown=countdown)
    Specimen.objects.filter(pk=row.pk).update(value="final")
    lab.say("Sent two tasks about a 'draft' row, then changed it to 'final'…")
    lab.wait_for(lambda lab: lab.events("data", "end") and lab.events("pk", "end"), countdown + 20)
    acted = {variant: [e["value"] for e in lab.events(variant, "end")] for variant in ("data", "pk")}
    confirmed = acted == {"data": ["draft"], "pk": ["final"]}
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: the row said 'final' when the tasks ran; "
        f"the task given its data acted on {acted['data']}, the one given its pk on {acted['pk']}",
        {"row": "final", "acted_on": acted},
    )


@lesson(
    "no-get-in-task",
    "Never wait for a task inside a task",
    claim=(
        "Celery refuses result.get() inside a task; forced, the wait can deadlock a pool whose "
        "processes are all waiting. A chord does the waiting instead."
    ),
    source="the talk (option 2); Celery docs, Avoid launching synchronous subtasks",
)
def no_get_in_task(lab):
    wait = 2
    conf = lab.conf("get")
    app = lab.app(conf)
    lab.say("Starting a worker with one process…")
    lab.ready(lab.worker("worker", conf, concurrency=1))
    send(app, tasks.wait_inside, "refused", lab.seconds(wait), False)
    lab.wait_for(lambda lab: lab.events("refused", "end"), 20)
    lab.say(f"Forcing the wait, at most {lab.seconds(wait):g} s…")
    send(app, tasks.wait_inside, "forced", lab.seconds(wait), True)
    lab.wait_for(
        lambda lab: lab.events("forced", "end") and len(lab.events("forced", "start")) == 2, wait + 20
    )
    lab.say("Now the same with a chord…")
    chord(
        [signature(app, tasks.sleeper, "chord", "sub-task", 0)],
        signature(app, tasks.collect, "chord", "chord body"),
        app=app,
    ).apply_async()
    lab.wait_for(lambda lab: [e for e in lab.events("chord", "end") if e["label"] == "chord body"], 20)
    waits = {
        variant: [e for e in lab.events(variant, "end") if e["label"] == "wait for a sub-task"]
        for variant in ("refused", "forced")
    }
    refused, forced = ([e["error"] for e in waits[variant]] for variant in ("refused", "forced"))
    forced_ended = [e["t"] for e in waits["forced"]]
    sub_started = [e["t"] for e in lab.events("forced", "start") if e["label"] == "sub-task"]
    sub_waited = bool(forced_ended and sub_started and sub_started[0] >= forced_ended[0])
    body_ran = len([e for e in lab.events("chord", "end") if e["label"] == "chord body"])
    confirmed = (
        len(refused) == 1
        and "Never call result.get() within a task" in (refused[0] or "")
        and len(forced) == 1
        and (forced[0] or "").startswith("TimeoutError")
        and sub_waited
        and body_ran == 1
    )
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: .get() inside a task raised "
        f"{(refused or ['nothing'])[0]}; forced on a one-process pool it ended in "
        f"{(forced or ['nothing'])[0]}, its sub-task "
        f"{'run only after the wait gave up' if sub_waited else 'not held up'}; "
        f"the chord's body ran {body_ran} time(s)",
        {
            "refused": refused,
            "forced": forced,
            "sub_task_ran_after_the_wait": sub_waited,
            "chord_body_runs": body_ran,
        },
    )


@lesson(
    "errbacks",
    "A group's link_error runs per failing task, a chord's errback once",
    claim=(
        "A group's link_error runs once for every task that fails; a chord's errback once, its "
        "body never, while the header's other tasks still run to the end."
    ),
    source="Celery docs, Canvas: Error handling, Chords",
)
def errbacks(lab):
    conf = lab.conf("errbacks")
    app = lab.app(conf)
    lab.say("Starting a worker; a group and a chord, each of one slow task and two that fail…")
    lab.ready(lab.worker("worker", conf))

    def header(variant):
        return [
            signature(app, tasks.sleeper, variant, "slow task", lab.seconds(1)),
            signature(app, tasks.fail, variant, "fails 1"),
            signature(app, tasks.fail, variant, "fails 2"),
        ]

    errback = partial(signature, app, tasks.failed)
    group(header("group"), app=app).on_error(errback(variant="group", label="link_error")).apply_async()
    # A chord's errback goes on its body (on the chord itself, Celery warns of a change to come).
    body = signature(app, tasks.collect, "chord", "chord body").on_error(
        errback(variant="chord", label="errback")
    )
    chord(header("chord"), body, app=app).apply_async()
    lab.wait_for(lambda lab: len(lab.events(event="end")) == 2 and len(lab.events(event="errback")) >= 3, 20)
    lab.sleep(1)  # an errback or a body still to come would come now
    seen = {variant: counts(lab, variant, "failed", "errback", "end") for variant in ("group", "chord")}
    body = len([e for e in lab.events("chord", "start") if e["label"] == "chord body"])
    confirmed = (
        seen["group"] == {"failed": 2, "errback": 2, "end": 1}
        and seen["chord"] == {"failed": 2, "errback": 1, "end": 1}
        and body == 0
    )
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: two tasks failed in each; the group's "
        f"link_error ran {seen['group']['errback']} times, the chord's errback "
        f"{seen['chord']['errback']} time(s) and its body {body}; the slow task finished in "
        f"{seen['group']['end'] + seen['chord']['end']} of 2",
        {**seen, "chord_body_runs": body},
    )


@lesson(
    "starmap-serial",
    "starmap runs its calls one after another; chunks send fewer messages",
    claim=(
        "starmap runs all its calls one after another inside one task, on one process; a group of "
        "the same calls runs them in parallel, one message each; chunks send one message per chunk."
    ),
    source="the talk (option 5a); Celery docs, Canvas: Map & Starmap, Chunks",
)
def starmap_serial(lab):
    calls, seconds = 6, 0.2
    conf = lab.conf("starmap")
    app = lab.app(conf)
    lab.say("Starting a worker with two processes…")
    worker = lab.worker("worker", conf)
    lab.ready(worker)
    task = app.signature(tasks.sleeper.name)

    def items(variant):
        return [(variant, f"call {i}", lab.seconds(seconds)) for i in range(calls)]

    canvases = {
        "starmap": xstarmap(task, items("starmap"), app=app),
        "group": group([signature(app, tasks.sleeper, *item) for item in items("group")], app=app),
        "chunks": chunks(task, items("chunks"), calls // 2, app=app).group(),
    }
    seen = {}
    for variant, canvas in canvases.items():
        received = lab.log(worker).count(" received")
        canvas.apply_async()
        lab.wait_for(lambda lab, variant=variant: len(lab.events(variant, "end")) == calls, 20)
        ends = [e["t"] for e in lab.events(variant, "end")]
        starts = [e["t"] for e in lab.events(variant, "start")]
        seen[variant] = {
            "messages": lab.log(worker).count(" received") - received,
            "processes": len({e["pid"] for e in lab.events(variant, "start")}),
            "seconds": round(max(ends) - min(starts), 3) if ends else None,
        }
        lab.say(f"  {variant}: {seen[variant]}")
    star, grouped, chunked = seen["starmap"], seen["group"], seen["chunks"]
    confirmed = (
        star["messages"] == 1
        and star["processes"] == 1
        and star["seconds"] is not None
        and star["seconds"] >= calls * lab.seconds(seconds)
        and grouped["messages"] == calls
        and grouped["processes"] == 2
        and chunked["messages"] == 2
    )
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: {calls} calls of {lab.seconds(seconds):g} s: "
        f"starmap {star['messages']} message, {star['processes']} process, {star['seconds']} s; "
        f"group {grouped['messages']} messages, {grouped['processes']} processes, {grouped['seconds']} s; "
        f"chunks {chunked['messages']} messages",
        seen,
    )


@lesson(
    "chord-unlock",
    "A result backend without a chord counter polls with chord_unlock",
    claim=(
        "On a result backend without an atomic chord counter, a chord sends a chord_unlock task "
        "that polls its header's results once a second until all are ready; the project's "
        "database backend counts instead and sends none."
    ),
    source="Celery docs, Canvas: Chords (Important notes); django-celery-results",
)
def chord_unlock(lab):
    duration = 3
    (lab.folder / "results").mkdir()
    confs = {
        # Celery's file-system backend keeps results as files: no counter to increment.
        "file_backend": lab.conf("file_backend", result_backend=f"file://{lab.folder / 'results'}"),
        "database_backend": lab.conf("database_backend"),
    }
    lab.say("Starting a worker on each result backend…")
    # A process for chord_unlock beside the two header tasks: its polls are not held up.
    workers = {variant: lab.worker(variant, conf, concurrency=3) for variant, conf in confs.items()}
    lab.ready(*workers.values())
    for variant, conf in confs.items():
        app = lab.app(conf)
        header = [
            signature(app, tasks.sleeper, variant, f"header {i}", lab.seconds(duration)) for i in (1, 2)
        ]
        chord(header, signature(app, tasks.collect, variant, "chord body"), app=app).apply_async()
    lab.say(f"Sent a chord of two {lab.seconds(duration):g} s tasks to each…")
    lab.wait_for(
        lambda lab: all(
            [e for e in lab.events(variant, "end") if e["label"] == "chord body"] for variant in confs
        ),
        duration + 20,
    )
    seen = {
        variant: {
            "chord_unlock_messages": len(
                [
                    line
                    for line in lab.log(worker).splitlines()
                    if "celery.chord_unlock[" in line and " received" in line
                ]
            ),
            "body_runs": len([e for e in lab.events(variant, "end") if e["label"] == "chord body"]),
        }
        for variant, worker in workers.items()
    }
    polled, counted = seen["file_backend"], seen["database_backend"]
    confirmed = (
        polled["chord_unlock_messages"] >= 2
        and counted["chord_unlock_messages"] == 0
        and polled["body_runs"] == counted["body_runs"] == 1
    )
    return Outcome(
        confirmed,
        f"{'confirmed' if confirmed else 'not confirmed'}: for a chord of two {lab.seconds(duration):g} s "
        f"tasks, the file-system backend's worker received {polled['chord_unlock_messages']} chord_unlock "
        f"messages, the database backend's {counted['chord_unlock_messages']}; each body ran "
        f"{polled['body_runs']} and {counted['body_runs']} time(s)",
        seen,
    )
