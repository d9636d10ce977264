"""SIGTERM to a worker's whole process group, as honcho, systemd and `kill -- -PGID` send it,
stops the worker within seconds, every time: idle, or with tasks running.

On the filesystem broker a pool process killed while it waited for a task held the pool's
read lock for good, and the main process hung at its exit (billiard's
Pool._help_stuff_finish): 8 of 10 idle workers were still alive after 20 s.
"""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.tasks import stamp
from tests.utils import wait_until
from tests.workers import running_worker

TRIES = 5
# Far inside Docker's and systemd's windows; a hung worker never exits.
EXITS_WITHIN = 10
QUEUE = f"{settings.CELERY_TASK_DEFAULT_QUEUE}_shutdown"


def stop_groups(processes):
    """SIGTERM every group at once; how many seconds each worker took to exit (None: hung)."""
    started = time.monotonic()
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    took = []
    for process in processes:
        try:
            process.wait(timeout=max(0, started + EXITS_WITHIN - time.monotonic()))
        except subprocess.TimeoutExpired:
            took.append(None)
        else:
            took.append(time.monotonic() - started)
    return took


def test_an_idle_worker_exits_at_a_group_sigterm_every_time(transactional_db):
    """TRIES workers side by side, stopped at once: the machine is as loaded as it gets."""
    with contextlib.ExitStack() as workers:
        processes = [
            workers.enter_context(running_worker(f"shutdown-idle-{attempt}", "--concurrency=4", "-Q", QUEUE))
            for attempt in range(TRIES)
        ]
        time.sleep(0.5)
        took = stop_groups(processes)
    print("idle workers, seconds to exit after a group SIGTERM:", took)
    assert None not in took, took


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"),
    reason="on RabbitMQ and Redis each pool process stops at the signal, as Celery has it",
)
def test_a_busy_embedded_worker_finishes_its_running_tasks_and_exits_at_a_group_sigterm(transactional_db):
    """The worker stores its results: the test database must exist (PostgreSQL's is made here).
    TRIES workers side by side, each on a queue of its own, stopped at once."""
    names = [f"shutdown-busy-{attempt}" for attempt in range(TRIES)]
    logs = [Path(settings.VAR_DIR) / f"{name}.log" for name in names]
    with contextlib.ExitStack() as workers:
        processes = [
            workers.enter_context(running_worker(name, "--concurrency=2", "-Q", f"{QUEUE}-{name}"))
            for name in names
        ]
        for name in names:
            for n in range(6):
                stamp.apply_async((n, 0.5), queue=f"{QUEUE}-{name}")
        # In each, one task done and the next ones running.
        wait_until(
            lambda: all("succeeded in" in log.read_text() for log in logs), timeout=30, message="no task ran"
        )
        took = stop_groups(processes)
    print("busy workers, seconds to exit after a group SIGTERM:", took)
    assert None not in took, took
    for log in logs:
        text = log.read_text()
        assert "exited with 'signal 15" not in text  # the pool was not killed mid-task
        assert "Traceback" not in text
        # Those running at the SIGTERM finished too (one had when it came).
        assert text.count("succeeded in") >= 3, log
