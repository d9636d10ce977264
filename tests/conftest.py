"""Fixtures that run the suite against real processes: a Celery worker on a real broker.

The suite runs on whichever stack the Test configuration points at: the embedded default
(SQLite + filesystem broker) unless TEST_DATABASE_URL / TEST_CELERY_BROKER_URL name real
services. When they name services that are not reachable, every test is skipped with a
message, or, with REQUIRE_REAL_SERVICES=1 (as CI sets), the run fails.
"""

import os
import threading

import pytest
import redis
from django.conf import settings

from tests.reachability import unreachable_services
from tests.workers import running_worker


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


@pytest.fixture(scope="session", autouse=True)
def redis_broker_emptied():
    """On Redis the broker is a database number of the tests' own (make test's REDIS_URL) on a
    shared server: what its queues and bindings left there is deleted after the run."""
    yield
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` subprocess (prefork, 4 processes) on the test database and queue."""
    from tests.tasks import echo

    # --purge drops what earlier runs left in the queue, before the worker consumes.
    with running_worker("worker", "--concurrency=4", "--purge") as process:
        with django_db_blocker.unblock():  # the result comes back through the database
            assert echo.delay("ping").get(timeout=30) == "ping"
        yield process


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """A running worker, for a test whose data the worker must see (committed, not rolled back)."""
    return celery_worker_process


@pytest.fixture
def sent(monkeypatch):
    """The (kind, id) of each report whose canvas is sent, recorded instead of sent."""
    from reports.models import Report

    sent = []
    lock = threading.Lock()  # saves on several threads at once

    def record(report):
        with lock:
            sent.append((report.kind, report.pk))

    monkeypatch.setattr(Report, "send_canvas", record)
    return sent
