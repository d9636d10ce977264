"""Probe tasks, loaded only into the test worker (``--include tests.tasks``)."""
import time

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
