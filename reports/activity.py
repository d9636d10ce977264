"""What a report's tasks are doing and did, read off what the tasks store: nothing is written for it.

Each attempt logs its start and end, why it failed and when its retry is due; the rest follows
from the canvas. A task's message is *ready* when a worker may run it: a first attempt once the
canvas is sent (as the report is created), a retry once its back-off ends, a callback once the
task it hangs on ends. From then until its attempt starts it waits in the queue: for a free
worker process, when every process is busy with other tasks.
"""

import copy

from django.db.models import Q
from django.utils import timezone

from .models import CALLBACK_STEPS, REPORT_MODELS, WORK_STEPS, Status, cut_short_log_ids
from .stories import MAX_RETRIES, task_name

# A wait in the queue shorter than this is the broker's hand-over, not a want of processes.
NOTABLE_WAIT = 0.25  # seconds


def clock(moment):
    """A moment to the hundredth of a second, in the site's time zone: retries can be that close."""
    return timezone.localtime(moment).strftime("%H:%M:%S.%f")[:-4]


def step_ends(logs):
    """Each work step's last attempt's log once the step is settled (succeeded, or failed for good)."""
    cut_short = cut_short_log_ids(logs)
    ends = {}
    for log in logs:
        settled = log.status == Status.FINISHED or log.failed_for_good
        if log.step in WORK_STEPS and log.pk not in cut_short and log.finished_dt is not None and settled:
            ends.setdefault(log.step, log)
    return ends


def ready_times(report, logs):
    """When each log's task was ready for a worker, by log id; a redelivered attempt has none."""
    cut_short = cut_short_log_ids(logs)
    redelivered = {(log.step, log.retry) for log in logs if log.pk in cut_short}
    attempts = {
        (log.step, log.retry): log for log in logs if log.step in WORK_STEPS and log.pk not in cut_short
    }
    ready = {}
    for (step, retry), log in attempts.items():
        if (step, retry) in redelivered:
            continue
        if retry == 0:
            ready[log.pk] = report.created_dt
        elif (previous := attempts.get((step, retry - 1))) and previous.retry_due_dt:
            ready[log.pk] = previous.retry_due_dt
    due = callbacks_due(report, logs)
    for callback in CALLBACK_STEPS:
        runs = [log for log in logs if log.step == callback]
        ready.update((log.pk, moment) for log, moment in zip(runs, due[callback], strict=False))
    return ready


def callbacks_due(report, logs):
    """When each run of "finished" and "error" that the canvas owes so far was sent.

    A group's "finished" hangs on short's success, its "error" on each step that fails for
    good; a chord's body or errback on the last of its three steps to settle.
    """
    ends = step_ends(logs)
    failed = sorted(log.finished_dt for log in ends.values() if log.status == Status.ERROR)
    if report.kind == "group":
        short = ends.get(WORK_STEPS[0])
        finished = [short.finished_dt] if short and short.status == Status.FINISHED else []
        return {"finished": finished, "error": failed}
    if len(ends) < len(WORK_STEPS):
        return {"finished": [], "error": []}
    last = [max(log.finished_dt for log in ends.values())]
    return {"finished": [] if failed else last, "error": last if failed else []}


def still_queued(report, logs, now):
    """(step, since) for each task whose message is ready at ``now`` and no process took yet."""
    waiting = []
    for step in WORK_STEPS:
        attempts = [log for log in logs if log.step == step]
        if not attempts and report.is_celery_task_sent:
            waiting.append((step, report.created_dt))
        # Its last attempt failed, its back-off is over, and no process took the retry yet.
        elif (
            attempts
            and (due := attempts[-1].retry_due_dt)
            and not attempts[-1].failed_for_good
            and due <= now
        ):
            waiting.append((step, due))
    for callback, due in callbacks_due(report, logs).items():
        runs = sum(log.step == callback for log in logs)
        waiting.extend((callback, since) for since in due[runs:] if since <= now)
    return waiting


def step_states(report, now=None):
    """(step, state, what it does) for each task of the canvas at ``now``, for the report's page.

    The state is one of running, queued, retrying, done, failed, pending, skipped.
    """
    now = now or timezone.now()
    logs = logs_as_at(report, now)
    states = [
        (step, *work_state(report, [log for log in logs if log.step == step], now)) for step in WORK_STEPS
    ]
    ends = step_ends(logs)
    due = callbacks_due(report, logs)
    for callback in CALLBACK_STEPS:
        runs = [log for log in logs if log.step == callback]
        decided = len(ends) == len(WORK_STEPS) or (
            report.kind == "group" and callback == "finished" and WORK_STEPS[0] in ends
        )
        states.append((callback, *callback_state(report, callback, runs, due[callback], decided)))
    return states


def logs_as_at(report, now):
    """The report's logs as they stood at ``now``: those begun by then, any ended later still running."""
    logs = []
    for log in report.task_logs.all():
        if log.created_dt > now:
            continue
        if log.finished_dt and log.finished_dt > now:
            log = copy.copy(log)  # the prefetched one stays as stored
            log.status, log.finished_dt, log.error, log.retry_due_dt = Status.PROCESSING, None, "", None
        logs.append(log)
    return logs


def work_state(report, logs, now):
    if not logs:
        if not report.is_celery_task_sent:
            return "pending", "not sent"
        return "queued", f"waiting in the queue since {clock(report.created_dt)}"
    last = logs[-1]
    attempt = f"attempt {last.retry + 1} of {MAX_RETRIES + 1}"
    if last.finished_dt is None:
        return "running", f"running since {clock(last.created_dt)} ({attempt})"
    if last.status == Status.FINISHED:
        return "done", f"done at {clock(last.finished_dt)} ({attempt})"
    if last.failed_for_good:
        reason = last.error or "stopped"
        return "failed", f"failed for good at {clock(last.finished_dt)} ({attempt}): {reason}"
    if now < last.retry_due_dt:
        wait = (last.retry_due_dt - now).total_seconds()
        return "retrying", (
            f"waiting to retry until {clock(last.retry_due_dt)} (in {wait:.2f} s), "
            f"after {attempt} failed: {last.error}"
        )
    return "queued", f"retry due at {clock(last.retry_due_dt)}, waiting in the queue"


def callback_state(report, callback, runs, due, decided):
    if runs and len(runs) >= len(due):
        sets = "Error" if callback == "error" else "Finished"
        times = ", ".join(clock(log.created_dt) for log in runs)
        return "done", f"ran at {times} (it sets the report to {sets})"
    if due:
        return "queued", f"waiting in the queue since {clock(due[len(runs)])}"
    if decided:
        return "skipped", "will not run"
    hangs_on = {
        ("group", "finished"): "runs once short succeeds",
        ("group", "error"): "runs once for each task that fails for good",
        ("chord", "finished"): "runs once all three tasks succeed",
        ("chord", "error"): "runs once all three tasks are done, if one failed for good",
    }
    return "pending", hangs_on[report.kind, callback]


def failure_summary(report):
    """Why a report ended in Error, naming the task: for the top of its page; None otherwise."""
    if report.status != Status.ERROR:
        return None
    logs = list(report.task_logs.all())
    reasons = [
        f"{log.step} failed for good on attempt {log.retry + 1}: {log.error or 'stopped'}"
        for log in step_ends(logs).values()
        if log.status == Status.ERROR
    ]
    if report.error:
        reasons.append(report.error)
    return "; ".join(reasons) or "the “error” callback ran"


def queue_waits(report, logs):
    """(log, ready, seconds) for each task that waited in the queue before a process took it."""
    ready = ready_times(report, logs)
    return [
        (log, ready[log.pk], (log.created_dt - ready[log.pk]).total_seconds())
        for log in logs
        if log.pk in ready
    ]


def queue_wait_sentences(report):
    """A sentence per task that waited long for a free worker process, saying what kept them busy.

    It waited for one when tasks (of any report) ran while it waited and it started just after
    one of them ended.
    """
    logs = list(report.task_logs.all())
    notable = [(log, ready, wait) for log, ready, wait in queue_waits(report, logs) if wait >= NOTABLE_WAIT]
    if not notable:
        return []
    attempts = work_attempts_between(
        min(ready for _, ready, _ in notable), max(log.created_dt for log, _, _ in notable)
    )
    sentences = []
    for log, ready, wait in notable:
        middle = ready + (log.created_dt - ready) / 2
        running = sum(start <= middle and (end is None or end > middle) for start, end in attempts)
        freed = max((end for _, end in attempts if end and ready < end <= log.created_dt), default=None)
        if not running or freed is None or (log.created_dt - freed).total_seconds() > wait / 2:
            continue
        name = f"“{log.step}”" if log.step in CALLBACK_STEPS else f"{log.step} (attempt {log.retry + 1})"
        sentences.append(
            f"{name} waited {wait:.2f} s in the queue for a free worker process: halfway through its "
            f"wait, {running} task{'s were' if running > 1 else ' was'} running (of this report and "
            f"others), and it started {(log.created_dt - freed).total_seconds():.2f} s after one ended."
        )
    return sentences


def work_attempts_between(since, until):
    """(start, end) of every report's work attempts that ran at some moment between the two."""
    attempts = []
    for model in REPORT_MODELS.values():
        names = [task_name(model.kind, step) for step in WORK_STEPS]
        logs = model.log_model().objects.filter(task_name__in=names, created_dt__lte=until)
        overlapping = logs.filter(Q(finished_dt__gt=since) | Q(finished_dt=None))
        attempts += overlapping.values_list("created_dt", "finished_dt")
    return attempts
