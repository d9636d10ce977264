"""Flower, the Celery monitor, shows the worker, its pool processes and a voter-roll run's tasks.

On every broker the tests run on: the filesystem one (events through its topic exchange,
inspect through its remote control) and RabbitMQ.
"""

import json
import os
import re
import socket
import urllib.request
from pathlib import Path

import pytest
from django_celery_results.models import TaskResult
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.private_services import free_port
from tests.tasks import stamp
from tests.utils import wait_until
from tests.workers import running_flower
from voterroll.fake_data import replace_voter_data
from voterroll.models import RollRun
from voterroll.options import Option
from voterroll.runs import start_run, wait_for_outcome

STATE = re.compile(r"\b(PENDING|RECEIVED|STARTED|SUCCESS)\b")
# The test worker, as tests.workers names it.
WORKER = f"worker-{os.getpid()}@{socket.gethostname()}"


def online_workers(flower):
    """The workers Flower has heard a heartbeat from: its events reach it."""
    with urllib.request.urlopen(f"{flower}/workers?json=1", timeout=5) as response:
        return {worker["hostname"] for worker in json.load(response)["data"] if worker["status"]}


@pytest.fixture
def flower(worker):
    """Flower beside the test worker, once it hears the worker's events (a task sent before it
    listens would be missing from its pages)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with running_flower(free_port()) as url:
        wait_until(lambda: WORKER in online_workers(url), timeout=30, message="Flower never heard the worker")
        yield url


def pool_processes(worker):
    """The pids of the worker's pool processes, as the kernel lists its children."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert children, "the worker has no pool processes"
    return children


def test_flower_shows_the_worker_its_pool_processes_and_the_tasks_of_a_run(page, worker, flower, screenshot):
    replace_voter_data(6000, seed=5)
    run = start_run(Option.CHORD_OF_CHUNKS)

    # This worker's tasks only: on RabbitMQ, Flower hears every worker of the virtual host.
    page.goto(f"{flower}/tasks?worker={WORKER}")
    run = wait_for_outcome(run, timeout=60)
    assert run.status == RollRun.Status.FINISHED
    # The option's own task, then the chord's header: the assigner and the chunks it added;
    # the body runs last.
    header = TaskResult.objects.filter(
        task_name__in=["voterroll.tasks.assign_and_add_chunks", "voterroll.tasks.write_station_rolls"]
    )
    tasks = [(run.task_id, Option.CHORD_OF_CHUNKS.task_name)]
    tasks += header.values_list("task_id", "task_name")
    assert len(tasks) == run.tasks - 1 and len(tasks) > 3

    page.reload()
    table = page.locator("#tasks-table")
    # Its first page: the newest tasks (each task's own page is looked at below).
    for task_name in ("voterroll.tasks.write_station_rolls", "voterroll.tasks.sum_pages"):
        expect(table).to_contain_text(task_name)
    for task_id, task_name in tasks:
        page.goto(f"{flower}/task/{task_id}")
        expect(page.locator("body")).to_contain_text(task_name)
        expect(page.locator("body")).to_contain_text("SUCCESS")
        expect(page.locator("body")).to_contain_text(WORKER)

    page.goto(f"{flower}/worker/{WORKER}")
    pool = page.locator("#tab-pool")
    for pid in pool_processes(worker):
        expect(pool).to_contain_text(pid)
    page.screenshot(path=ARTIFACTS / "flower_worker_pool.png", full_page=True)

    page.goto(f"{flower}/workers")
    expect(page.locator("#workers-table")).to_contain_text(WORKER)
    page.goto(f"{flower}/tasks?worker={WORKER}")


def test_flower_shows_tasks_running_and_others_waiting_while_they_go(page, worker, flower, screenshot):
    """Six 3-second tasks on four processes: while they go, some run and the rest wait."""
    label = f"flower-{os.getpid()}"
    results = [stamp.delay(f"{label}-{n}", sleep=3) for n in range(6)]
    page.goto(f"{flower}/tasks")
    page.locator("#tasks-table_filter input").fill(f"args:{label}")  # these six only

    def states():
        page.evaluate("$('#tasks-table').DataTable().ajax.reload()")
        page.wait_for_load_state("networkidle")
        rows = [page.locator("#tasks-table tbody tr", has_text=result.id) for result in results]
        if not all(row.count() == 1 for row in rows):
            return []
        return sorted(STATE.search(row.inner_text())[1] for row in rows)

    wait_until(
        lambda: (now := states()) and "STARTED" in now and {"PENDING", "RECEIVED"} & set(now),
        timeout=30,
        interval=0.2,
        message="Flower never showed a task running beside one waiting",
    )
    page.screenshot(path=ARTIFACTS / "flower_tasks_while_they_go.png", full_page=True)
    assert [result.get(timeout=30)[0] for result in results] == [f"{label}-{n}" for n in range(6)]
    wait_until(lambda: states() == ["SUCCESS"] * 6, timeout=30, message="Flower missed an end")
