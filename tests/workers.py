"""Start and stop real `celery worker` processes for the tests."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.private_services import dies_with_parent
from tests.utils import wait_until

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
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "project",
        "worker",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--include=tests.tasks",
        f"--hostname={name}-{os.getpid()}@%h",
        *options,
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A warm shutdown if this process dies, even by SIGKILL: no orphan worker after a
            # killed test run.
            preexec_fn=dies_with_parent(signal.SIGTERM),
        )
    try:
        wait_until(
            lambda: process.poll() is not None or " ready." in log_path.read_text(),
            timeout=60,
            message=f"worker did not start; see {log_path}",
        )
        assert process.poll() is None, f"worker exited at start-up; see {log_path}"
        yield process
    finally:
        if process.poll() is None:
            # Warm shutdown, as a process manager asks; then make sure it is gone.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
