"""Faults in the middle of the work: a 5b run over 20,000 voters and a batch of reports.

For each fault: the run finishes, every roll opens with the pages the run recorded and holds
each voter once; every report ends as its seeded story says, each callback having run once.
The worker faults run on any stack; the broker and database restarts need the private
instances of tests.faults_stack (``make test`` runs both passes).
"""

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django_celery_results.models import ChordCounter

from project.celery import app
from reports.models import REPORT_MODELS
from tests.reports_stories import IdRange, find_report_id, predicted_outcome, quick, settled
from tests.utils import wait_until
from tests.voterroll_utils import printed_numbers, read_roll, wait_for_outcome
from tests.workers import running_worker
from voterroll.fake_data import replace_voter_data
from voterroll.models import RollRun, StationAssignment
from voterroll.options import Option
from voterroll.runs import start_run
from voterroll.tasks import task_id

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

VOTERS = 20_000
REPORTS_PER_KIND = 3


def start_worker(name, **env):
    """A worker of the test's own (two processes, as on this machine's two cores)."""
    return running_worker(name, "--concurrency=2", env=env)


def kill(worker, sig=signal.SIGKILL):
    """SIGKILL the whole worker, pool included, as a crash or an OOM killer would; or SIGTERM
    its main process, as a process manager stopping it does."""
    if sig == signal.SIGKILL:
        os.killpg(worker.pid, sig)
    else:
        worker.send_signal(sig)
    worker.wait(timeout=60)


def forget_earlier_messages():
    """Drop what a failed earlier test left queued or claimed: the reports reuse their ids, and
    an old callback consumed now would count twice."""
    with app.connection_for_write() as connection:  # a new one: an earlier test restarted the broker
        app.control.purge(connection=connection)
    claimed = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("claimed_folder", "/nonexistent"))
    if claimed.is_dir():  # the filesystem broker's
        for folder in claimed.iterdir():
            shutil.rmtree(folder)


@pytest.fixture
def work():
    """The fault tests' workload, not yet started: 20,000 voters and a batch of reports whose
    stories settle within a few seconds (one chord in three fails for good)."""
    forget_earlier_messages()
    replace_voter_data(VOTERS, seed=7)
    reports = []
    for kind, first in (("chord", IdRange.FAULTS_CHORD), ("group", IdRange.FAULTS_GROUP)):
        start = first
        for _ in range(REPORTS_PER_KIND):
            report_id = find_report_id(kind, lambda story, i: quick(story, longest=2.5), start=start)
            reports.append((kind, report_id))
            start = report_id + 1
    return reports


def start_work(reports):
    """Queue option 5b and create the reports (each sends its canvas)."""
    for kind, report_id in reports:
        REPORT_MODELS[kind].objects.create(pk=report_id)
    return start_run(Option.CHORD_BY_STATION)


def some_rolls_written(run, at_least=5):
    wait_until(lambda: len(run.rolls()) >= at_least, timeout=60, message="no roll was written")


def assert_everything_came_through(run, reports):
    run = wait_for_outcome(run, timeout=120)
    assert run.status == "finished", run.error

    rolls = run.rolls()
    assert len(rolls) == run.stations == len(set(StationAssignment.objects.values_list("center", "station")))
    assert sum(len(read_roll(name).pages) for name in rolls) == run.pages  # each opens, whole
    printed = [number for numbers in printed_numbers(run).values() for number in numbers]
    assert sorted(printed) == sorted(StationAssignment.objects.values_list("voter__number", flat=True))
    assert len(printed) == len(set(printed)) == VOTERS  # each voter once

    for kind, report_id in reports:
        report = settled(REPORT_MODELS[kind], report_id)
        status, callbacks = predicted_outcome(kind, report_id)
        ran = {step: sum(log.step == step for log in report.task_logs.all()) for step in callbacks}
        assert (report.status, ran) == (status, callbacks), f"{kind} report {report_id}"


def test_the_whole_worker_killed_mid_run(work, tmp_path):
    """On RabbitMQ the dead worker's messages are delivered again; on the filesystem broker the
    next worker puts back the dead one's claims."""
    with start_worker("first") as first:
        run = start_work(work)
        some_rolls_written(run)
        kill(first)

    with start_worker("second"):
        assert_everything_came_through(run, work)


def test_the_whole_worker_killed_while_the_option_sends_its_header(work):
    """The option's task dies half-way through sending the chord; delivered again, it sends the
    whole header again under the same task ids."""
    with start_worker("first", TEST_SLOW_STATION_SENDS="0.02") as first:
        run = start_work(work)
        header = ChordCounter.objects.filter(group_id=task_id(run, "stations"))
        wait_until(header.exists, timeout=60, message="the header was never sent")
        time.sleep(0.2)  # about ten of the fifty station tasks sent
        kill(first)
    assert len(run.rolls()) < RollRun.objects.get(pk=run.pk).tasks - 2  # it died half-way

    with start_worker("second"):
        assert_everything_came_through(run, work)


def test_the_worker_stopped_with_sigterm_mid_run(work):
    """A warm shutdown: running tasks finish, held messages go back; the next worker goes on."""
    with start_worker("first") as first:
        run = start_work(work)
        some_rolls_written(run)
        kill(first, signal.SIGTERM)

    with start_worker("second"):
        assert_everything_came_through(run, work)


@pytest.mark.restarts_services
def test_rabbitmq_restarted_mid_run(work, private_rabbitmq):
    """The worker reconnects by itself; tasks that were running run again (their acks were
    lost), which the rolls and the chord count take calmly."""
    with start_worker("only"):
        run = start_work(work)
        some_rolls_written(run)
        private_rabbitmq.restart()
        assert_everything_came_through(run, work)


@pytest.mark.restarts_services
def test_postgresql_restarted_mid_run(work, private_postgres):
    """A task whose connection dies goes back to the queue and runs again; results and chord
    counts are stored again from a new connection."""
    with start_worker("only"):
        run = start_work(work)
        some_rolls_written(run)
        private_postgres.restart()
        connections.close_all()  # this test's own connection died too
        assert_everything_came_through(run, work)
