"""Probe tasks, loaded only into the test worker (``--include tests.tasks``)."""

import os
import signal
import time
from pathlib import Path

from celery import shared_task, signature


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


@shared_task(bind=True)
def add_to_own_chord(self, signatures):
    """A chord's header task that adds ``signatures`` to its chord, each twice under the same
    id, as a task delivered again would."""
    for added in signatures:
        for _ in range(2):
            self.add_to_chord(signature(added))
    return "added"


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


@shared_task
def database_connection():
    """This process's pid and which database connection it used: PostgreSQL's server pid, or
    the identity of the SQLite connection object."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return [os.getpid(), id(connection.connection)]
        cursor.execute("SELECT pg_backend_pid()")
        return [os.getpid(), cursor.fetchone()[0]]


if os.environ.get("TEST_SLOW_STATION_SENDS"):
    # A fault test's worker sends station tasks slowly, so that it can be killed while the
    # option's task is half-way through sending its chord's header.
    from kombu import Producer

    send = Producer.publish

    def slow_publish(self, body, *args, headers=None, **kwargs):
        if (headers or {}).get("task") == "voterroll.tasks.write_station_roll":
            time.sleep(float(os.environ["TEST_SLOW_STATION_SENDS"]))
        return send(self, body, *args, headers=headers, **kwargs)

    Producer.publish = slow_publish
