"""The voter-roll run watchdog fails a run whose tasks were lost, not one whose tasks wait."""

from datetime import timedelta

from django.utils import timezone

from project.held import held_tasks
from tests.utils import wait_until
from voterroll.models import RollRun
from voterroll.options import Option
from voterroll.runs import fail_stalled
from voterroll.tasks import write_station_rolls


def quiet_run(settings):
    settings.VOTERROLL_STALLED_AFTER = 60
    run = RollRun.objects.create(option=Option.CHORD_BY_STATION, status=RollRun.Status.RUNNING)
    RollRun.objects.filter(pk=run.pk).update(progress_dt=timezone.now() - timedelta(minutes=2))
    return run


def test_a_quiet_run_whose_task_a_worker_still_holds_is_not_failed(worker, settings):
    """A task behind a backlog, or waiting for its countdown in a worker's hands: it will run."""
    run = quiet_run(settings)
    # Of no run (it does nothing when it runs): one run at a time, so any run task counts.
    write_station_rolls.apply_async((10**9, []), countdown=10)
    wait_until(lambda: held() in (held_tasks() or []), timeout=10, message="the worker never took the task")

    assert fail_stalled() == 0
    assert RollRun.objects.get(pk=run.pk).status == "running"
    wait_until(lambda: gone(held()), timeout=30, message="the task never ran")


def held():
    return ("voterroll.tasks.write_station_rolls", [10**9, []], {})


def gone(task):
    held = held_tasks()
    return held is not None and task not in held


def test_a_quiet_run_with_nothing_left_for_a_worker_is_failed_with_its_reason(worker, settings):
    run = quiet_run(settings)

    assert fail_stalled() == 1

    run.refresh_from_db()
    assert run.status == "failed"
    assert "none of them is left in the queue or with a worker" in run.error
