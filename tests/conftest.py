"""Fixtures that run the suite against real processes: a Celery worker on a real broker.

The suite runs on whichever stack the Test configuration points at: the embedded default
(SQLite + filesystem broker) unless TEST_DATABASE_URL / TEST_CELERY_BROKER_URL name real
services. When they name services that are not reachable, every test is skipped with a
message, or, with REQUIRE_REAL_SERVICES=1 (as CI sets), the run fails.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.services import unreachable_services
from tests.utils import wait_until

BASE_DIR = Path(__file__).resolve().parent.parent


def pytest_report_header(config):
    database = settings.DATABASES["default"]
    return (
        f"stack: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}, "
        f"broker {settings.CELERY_BROKER_URL.partition('://')[0]}"
    )


def pytest_collection_modifyitems(config, items):
    problems = unreachable_services(settings.DATABASES["default"], settings.CELERY_BROKER_URL)
    if not problems:
        return
    message = (
        "real services not reachable: " + "; ".join(problems) + ". Start them (see README, "
        "'Real services') or unset TEST_DATABASE_URL / TEST_CELERY_BROKER_URL."
    )
    if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
        raise pytest.UsageError(message)
    skip = pytest.mark.skip(reason=message)
    for item in items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` subprocess (prefork, 4 processes) on the test database and queue.

    It also imports tests.tasks, the probe tasks the Celery tests use.
    """
    from tests.tasks import echo

    log_path = Path(settings.VAR_DIR) / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_CONFIGURATION": "Test"}
    command = [
        sys.executable, "-m", "celery", "-A", "project", "worker",
        "--loglevel=INFO", "--concurrency=4", "--purge",
        "--without-gossip", "--without-mingle",
        f"--hostname=test-{os.getpid()}@%h", "--include=tests.tasks",
    ]  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        # --purge empties the queue before the worker consumes: send nothing until it is ready.
        wait_until(
            lambda: process.poll() is not None or " ready." in log_path.read_text(),
            timeout=60,
            message=f"worker did not start; see {log_path}",
        )
        assert process.poll() is None, f"worker exited at start-up; see {log_path}"
        with django_db_blocker.unblock():  # the result comes back through the database
            assert echo.delay("ping").get(timeout=30) == "ping"
        yield process
    finally:
        # Warm shutdown, as a process manager would ask; then make sure it is gone.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """A running worker, for a test whose data the worker must see (committed, not rolled back)."""
    return celery_worker_process
