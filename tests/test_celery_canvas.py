"""Celery's own semantics, proved on a real worker and broker; the apps build on these."""

import pytest
from celery import chord, group
from django_celery_results.models import TaskResult

from tests.tasks import collect, echo, stamp

pytestmark = pytest.mark.broker


def test_task_round_trip_through_broker_and_worker(worker):
    result = echo.delay({"hello": "world"})

    assert result.get(timeout=30) == {"hello": "world"}
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "tests.tasks.echo"


def test_chord_body_runs_once_with_every_header_result(worker):
    header = [stamp.s(f"part-{n}", sleep=0.05 * n) for n in range(5)]

    results, _ = chord(header)(collect.s()).get(timeout=60)

    assert sorted(label for label, _ in results) == [f"part-{n}" for n in range(5)]
    assert TaskResult.objects.filter(task_name="tests.tasks.collect").count() == 1


def test_group_link_fires_after_the_first_task_not_after_the_group(worker):
    """Celery attaches a group's link to its first task only (celery.canvas.group.link)."""
    callback = stamp.si("callback")
    job = group(stamp.s("first", sleep=0.2), stamp.s("slow", sleep=3.0))
    job.link(callback)

    group_result = job.apply_async()
    (_, first_done), (_, slow_done) = group_result.get(timeout=60)
    callback_id = group_result.results[0].children[0].id
    _, callback_done = type(group_result.results[0])(callback_id).get(timeout=30)

    assert first_done < callback_done < slow_done
    assert TaskResult.objects.filter(task_args__contains="callback").count() == 1
