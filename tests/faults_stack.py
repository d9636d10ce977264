"""pytest plugin: the Test configuration on a private RabbitMQ and PostgreSQL that tests may
restart. Load it with ``pytest -p tests.faults_stack -m faults`` (make test does): it must run
before pytest-django reads the settings, which happens in pytest_load_initial_conftests, before
any conftest.py is imported.

Fixtures: ``private_rabbitmq`` and ``private_postgres`` (session; the instances themselves).
A test that restarts one gets them back running: ``restored_stack`` (autouse) starts whatever
a test left stopped, and drops this process's database connections after a test that
restarted PostgreSQL, before pytest-django's teardown uses them.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.private_services import PrivatePostgres, PrivateRabbitMQ

_stack = {}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    base = Path(tempfile.mkdtemp(prefix="faults-stack-"))
    base.chmod(0o755)  # the postgres user must reach its data folder
    (base / "var").mkdir()
    rabbit, postgres = PrivateRabbitMQ(base), PrivatePostgres(base)
    # Stopped at the end of the session, whatever happens; atexit and the kernel's
    # parent-death signal cover a crash or a kill of pytest itself. Cleanups run last-in
    # first-out: the folder goes last, unless FAULTS_KEEP=1 asks to keep the logs.
    if os.environ.get("FAULTS_KEEP") != "1":
        early_config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
    early_config.add_cleanup(rabbit.close)
    early_config.add_cleanup(postgres.close)
    postgres.start()
    rabbit.start()
    _stack.update(rabbitmq=rabbit, postgres=postgres)
    os.environ.update(
        TEST_DATABASE_URL=postgres.database_url("faults_test"),
        TEST_CELERY_BROKER_URL=rabbit.url,
        TEST_CELERY_TASK_DEFAULT_QUEUE="faults",
        TEST_VAR_DIR=str(base / "var"),
    )


def pytest_report_header(config):
    if _stack:
        rabbit, postgres = _stack["rabbitmq"], _stack["postgres"]
        return (
            f"faults stack: RabbitMQ {rabbit.node} {rabbit.url} ({rabbit.timings['start']} s), "
            f"PostgreSQL {postgres.url} ({postgres.timings['start']} s)"
        )


@pytest.fixture(scope="session")
def private_rabbitmq():
    return _stack["rabbitmq"]


@pytest.fixture(scope="session")
def private_postgres():
    return _stack["postgres"]


@pytest.fixture(autouse=True)
def restored_stack():
    """After each test: both services running again, and no dead connection left in this
    process for the next test (or pytest-django's flush) to trip over."""
    yield
    rabbit, postgres = _stack["rabbitmq"], _stack["postgres"]
    if postgres._server is None:
        postgres.start()
    if rabbit._server is None:
        rabbit.start()
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
