"""Start and stop real `celery worker` processes for the tests."""
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.utils import wait_until

BASE_DIR = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running_worker(name, *options):
    """A prefork worker on the Test configuration's database and broker, ready to consume.

    Its own process group, so a test can kill it whole, pool included. It imports
    tests.tasks, the probe tasks, and logs to VAR_DIR/<name>.log.
    """
    log_path = Path(settings.VAR_DIR) / f"{name}.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_CONFIGURATION": "Test"}
    command = [
        sys.executable, "-m", "celery", "-A", "project", "worker", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--include=tests.tasks",
        f"--hostname={name}-{os.getpid()}@%h", *options,
    ]  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
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
