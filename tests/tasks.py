"""Probe tasks, loaded only into the test worker (``--include tests.tasks``)."""
import os
import signal
import time
from pathlib import Path

from celery import shared_task


@shared_task
def echo(value):
    return value


@shared_task
def stamp(label, sleep=0.0):
    """Sleep, then return ``label`` and the time it finished, so tests can order events."""
    time.sleep(sleep)
    return [label, time.time()]


@shared_task
def collect(results):
    """A chord body: return what the header handed over, and when it ran."""
    return [results, time.time()]


@shared_task
def die_once(marker):
    """Kill its own pool process the first time it runs; succeed when delivered again."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return "delivered again"


@shared_task
def record_delivery(marker, first_sleep):
    """Append a line per delivery; only the first delivery sleeps (long enough to be killed)."""
    with open(marker, "a") as deliveries:
        deliveries.write("delivered\n")
    if Path(marker).read_text().count("delivered") == 1:
        time.sleep(first_sleep)
    return "done"
