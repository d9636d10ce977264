"""The seeded story of each attempt, and the limits the demo tasks run under."""

from django.conf import settings

from project.celery import app
from reports.stories import (
    BACKOFF_MAX,
    CONNECTIVITY_FAILURE,
    UNRECOVERABLE_ERROR,
    WORK_SECONDS,
    attempt_story,
)


def test_the_same_report_task_and_attempt_always_tell_the_same_story():
    assert attempt_story("chord", "long", 7, 2) == attempt_story("chord", "long", 7, 2)
    assert attempt_story("chord", "long", 7, 2) != attempt_story("chord", "long", 7, 3)
    assert attempt_story("chord", "long", 7, 2) != attempt_story("group", "long", 7, 2)


def test_durations_stay_in_each_steps_scaled_range_and_failures_come_at_the_rate():
    scale = settings.REPORTS_TIME_SCALE
    stories = {step: [attempt_story("group", step, i, 0) for i in range(1, 2001, 5)] for step in WORK_SECONDS}

    for step, (low, high) in WORK_SECONDS.items():
        assert all(low * scale <= story.duration <= high * scale for story in stories[step])
    failures = sum(story.error == CONNECTIVITY_FAILURE for story in stories["short"]) / len(stories["short"])
    assert abs(failures - settings.REPORTS_FAILURE_RATE) < 0.05


def test_long_fails_unrecoverably_on_every_attempt_of_every_fifth_report_only():
    for attempt in range(6):
        assert attempt_story("chord", "long", 15, attempt).error in (
            UNRECOVERABLE_ERROR,
            CONNECTIVITY_FAILURE,
        )
        assert attempt_story("chord", "medium", 15, attempt).error != UNRECOVERABLE_ERROR
    assert all(
        attempt_story("chord", "long", i, 0).error != UNRECOVERABLE_ERROR for i in range(1, 100) if i % 5
    )


def test_back_off_doubles_per_retry_up_to_its_cap_all_scaled_and_jittered():
    scale = settings.REPORTS_TIME_SCALE
    for attempt in (0, 3, 8, 12):
        countdowns = [attempt_story("group", "short", i, attempt).retry_countdown for i in range(200)]
        ceiling = min(BACKOFF_MAX, 2**attempt) * scale
        assert all(0 <= countdown <= ceiling for countdown in countdowns)
        assert max(countdowns) > 0.8 * ceiling and len(set(countdowns)) == len(countdowns)  # jittered


def test_work_tasks_run_under_their_own_limits_above_their_longest_sleep():
    app.loader.import_default_modules()
    for kind in ("group", "chord"):
        for step, (_, high) in WORK_SECONDS.items():
            task = app.tasks[f"report_{kind}_{step}"]
            assert task.soft_time_limit > high * settings.REPORTS_TIME_SCALE
            assert task.soft_time_limit > settings.CELERY_TASK_SOFT_TIME_LIMIT
            assert task.time_limit > task.soft_time_limit
            assert task.acks_late and task.max_retries == 5
        for step in ("finished", "error"):
            assert app.tasks[f"report_{kind}_{step}"].report_kind == kind
