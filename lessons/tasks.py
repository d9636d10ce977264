"""The task that runs a lesson from the admin, and the probes a lesson's own workers run.

Every probe appends what it did to the lesson's events file (LESSON_EVENTS, one JSON object a
line, from every process of the lesson): its evidence, whatever the broker and the result
backend make of it.
"""

import json
import os
import time

from celery import shared_task

from project.tasks import DatabaseTask

# A lesson starts workers and waits on them: longer than the project's 25 s soft limit.
LESSON_LIMITS = {"soft_time_limit": 5 * 60, "time_limit": 5 * 60 + 30}


@shared_task(base=DatabaseTask, **LESSON_LIMITS)
def run_lesson(run_id):
    from .runs import run_lesson

    run_lesson(run_id)


def record(event, variant, label="", task_id=None, **fields):
    """Append one event of this process to the lesson's events file."""
    line = {
        "event": event,
        "variant": variant,
        "label": label,
        "id": task_id,
        "node": os.environ.get("LESSON_NODE", "?"),
        "pid": os.getpid(),
        "t": time.time(),
        **fields,
    }
    # One short write in append mode: lines from several processes never interleave.
    with open(os.environ["LESSON_EVENTS"], "a") as events:
        events.write(json.dumps(line) + "\n")


@shared_task(bind=True)
def sleeper(self, variant, label, seconds):
    """Work that takes ``seconds``: a bar on the timeline, or a cut-short one."""
    record("start", variant, label, self.request.id)
    time.sleep(seconds)
    record("end", variant, label, self.request.id)
    return label


@shared_task(bind=True)
def fail(self, variant, label):
    record("start", variant, label, self.request.id)
    record("failed", variant, label, self.request.id)
    raise ValueError(f"{label} fails on purpose")


@shared_task
def failed(request, exc, traceback, variant, label):
    """An errback: runs in the worker, once for each time Celery calls it."""
    record("errback", variant, label, request.id, error=str(exc))


@shared_task(bind=True)
def collect(self, results, variant, label):
    """A chord's body."""
    record("start", variant, label, self.request.id, results=results)
    record("end", variant, label, self.request.id)


@shared_task(bind=True)
def look_for(self, variant, pk):
    """Whether the row the sender just created is there when the task runs."""
    from .models import Specimen

    record("start", variant, "look for the row", self.request.id)
    found = Specimen.objects.filter(pk=pk).exists()
    record("end", variant, "look for the row", self.request.id, found=found)


@shared_task(bind=True)
def act_on_data(self, variant, data):
    """Given a copy of the row: acts on whatever the copy said when it was sent."""
    record("start", variant, "act on the data", self.request.id)
    record("end", variant, "act on the data", self.request.id, value=data["value"])


@shared_task(bind=True)
def act_on_pk(self, variant, pk):
    """Given the row's key: reads the row as it is now."""
    from .models import Specimen

    record("start", variant, "act on the pk", self.request.id)
    value = Specimen.objects.get(pk=pk).value
    record("end", variant, "act on the pk", self.request.id, value=value)


@shared_task(bind=True)
def wait_inside(self, variant, seconds, force):
    """Send a sub-task and wait for its result here, inside a task (``force``: past Celery's
    refusal), at most ``seconds``."""
    record("start", variant, "wait for a sub-task", self.request.id)
    sub = sleeper.delay(variant, "sub-task", 0)
    try:
        sub.get(timeout=seconds, disable_sync_subtasks=not force)
    except Exception as error:  # what Celery raises is the observation
        said = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        record("end", variant, "wait for a sub-task", self.request.id, error=said)
    else:
        record("end", variant, "wait for a sub-task", self.request.id, error=None)
