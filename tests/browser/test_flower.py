"""Flower, the Celery monitor, shows the worker, its pool processes and a voter-roll run's tasks.

On every broker the tests run on: the filesystem one (events through its fanout exchange,
inspect through its remote control) and RabbitMQ.
"""

import os
import socket
from pathlib import Path

import pytest
from django_celery_results.models import TaskResult
from playwright.sync_api import expect

from tests.private_services import free_port
from tests.workers import running_flower
from voterroll.fake_data import replace_voter_data
from voterroll.models import RollRun
from voterroll.options import Option
from voterroll.runs import start_run, wait_for_outcome


@pytest.fixture
def flower(worker):
    with running_flower(free_port()) as url:
        yield url


def pool_processes(worker):
    """The pids of the worker's pool processes, as the kernel lists its children."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert children, "the worker has no pool processes"
    return children


def test_flower_shows_the_worker_its_pool_processes_and_the_tasks_of_a_run(page, worker, flower, screenshot):
    name = f"worker-{os.getpid()}@{socket.gethostname()}"  # as tests.workers names it
    replace_voter_data(6000, seed=5)
    run = start_run(Option.CHORD_OF_CHUNKS)

    page.goto(f"{flower}/tasks")
    run = wait_for_outcome(run, timeout=60)
    assert run.status == RollRun.Status.FINISHED
    # The option's own task, then the chord's header tasks (the chunks); the body runs last.
    chunks = TaskResult.objects.filter(task_name="voterroll.tasks.write_station_rolls")
    tasks = [(run.task_id, Option.CHORD_OF_CHUNKS.task_name)]
    tasks += chunks.values_list("task_id", "task_name")
    assert len(tasks) == run.tasks - 1 and len(tasks) > 3

    page.reload()
    table = page.locator("#tasks-table")
    for task_name in (*{task_name for _, task_name in tasks}, "voterroll.tasks.sum_pages", name):
        expect(table).to_contain_text(task_name)
    for task_id, task_name in tasks:
        page.goto(f"{flower}/task/{task_id}")
        expect(page.locator("body")).to_contain_text(task_name)
        expect(page.locator("body")).to_contain_text("SUCCESS")

    page.goto(f"{flower}/worker/{name}")
    pool = page.locator("#tab-pool")
    for pid in pool_processes(worker):
        expect(pool).to_contain_text(pid)

    page.goto(f"{flower}/workers")
    expect(page.locator("#workers-table")).to_contain_text(name)
    page.goto(f"{flower}/tasks")
