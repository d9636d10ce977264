"""Start and stop real `celery worker` and Flower processes for the tests."""

import contextlib
import os
from pathlib import Path

from django.conf import settings

from project.processes import celery_command, running

BASE_DIR = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running_worker(name, *options, env=None):
    """A prefork worker on the Test configuration's database and broker, ready to consume.

    ``env`` is laid over this process's environment (benchmarks pick their configuration so).
    Its own process group, so a test can kill it whole, pool included. It imports
    tests.tasks, the probe tasks, and logs to VAR_DIR/<name>.log. It runs in a working folder
    of its own, as a worker on another machine would: a file it wrote by a relative path, or
    one a test would find only because both processes share a folder, fails the test.
    """
    log_path = Path(settings.VAR_DIR) / f"{name}.log"
    cwd = Path(settings.VAR_DIR) / f"{name}-cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_CONFIGURATION": "Test",
        **(env or {}),
    }
    command = celery_command(
        "project",
        "worker",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--include=tests.tasks",
        f"--hostname={name}-{os.getpid()}@%h",
        *options,
    )
    with running(command, log_path, env=env, cwd=cwd) as process:
        yield process


@contextlib.contextmanager
def running_flower(port):
    """Flower on 127.0.0.1:``port`` (its address yielded), on the Test configuration's broker,
    in its own process group; it logs to VAR_DIR/flower.log and stops when the block ends."""
    log_path = Path(settings.VAR_DIR) / "flower.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_CONFIGURATION": "Test",
    }
    # Flower would also switch task events on in every worker it reaches, every 5 s (on a shared
    # RabbitMQ, other projects' too): here the workers must send them by themselves (settings).
    command = celery_command(
        "project", "flower", "--address=127.0.0.1", f"--port={port}", "--enable_events=False"
    )
    with running(command, log_path, env=env, cwd=BASE_DIR, ready="Visit me at", stop_timeout=10):
        yield f"http://127.0.0.1:{port}"
