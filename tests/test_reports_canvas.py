"""Group and chord reports run on a real worker: callbacks, retries and their logs."""

import itertools
import time

import pytest

from reports.models import ReportChord, ReportGroup, Status
from reports.stories import CONNECTIVITY_FAILURE, MAX_RETRIES
from tests.reports_stories import (
    LONG_STILL_RUNNING,
    IdRange,
    find_report_id,
    finished_fires_early,
    long_fails_for_good,
    predicted_story,
    quick,
    succeeds_first_time,
)
from tests.utils import wait_until

pytestmark = pytest.mark.broker  # group and chord semantics: run on every broker


def run_report(model, report_id, timeout=60):
    """Create the report, wait until nothing in it can change any more, return it."""
    model.objects.create(pk=report_id)

    def settled():
        report = model.objects.get(pk=report_id)
        return report if not report.is_in_progress() else None

    message = f"{model.kind} report {report_id} never settled"
    return wait_until(settled, timeout=timeout, interval=0.1, message=message)


def logs_of(report, step):
    return [log for log in report.task_logs.all() if log.step == step]


def outcome(report):
    """What happened, without timings: every attempt's task, retry number and status."""
    return sorted((log.task_name, log.retry, log.status) for log in report.task_logs.all())


def test_chord_runs_finished_once_after_all_three_tasks(worker):
    report_id = find_report_id(
        "chord",
        lambda s, i: i % 5 and quick(s) and all(map(succeeds_first_time, s.values())),
        start=IdRange.CHORD_ALL_SUCCEED,
    )

    report = run_report(ReportChord, report_id)

    finished_runs = logs_of(report, "finished")
    work = [log for log in report.task_logs.all() if log.step in ("short", "medium", "long")]
    assert report.status == Status.FINISHED
    assert len(finished_runs) == 1 and not logs_of(report, "error")
    assert sorted(log.step for log in work) == ["long", "medium", "short"]
    assert all(log.status == Status.FINISHED for log in work)
    assert finished_runs[0].created_dt >= max(log.finished_dt for log in work)
    assert "after every task had settled" in report.callback_summary()


def test_chord_with_a_task_failing_for_good_runs_error_once_after_six_attempts(worker):
    report_id = find_report_id("chord", long_fails_for_good, start=IdRange.CHORD_LONG_FAILS)

    run_report(ReportChord, report_id)
    time.sleep(1)  # room for a second errback, were Celery to send one
    report = ReportChord.objects.get(pk=report_id)

    long_attempts = logs_of(report, "long")
    assert report.status == Status.ERROR
    assert [log.retry for log in long_attempts] == list(range(MAX_RETRIES + 1))
    assert {(log.task_name, log.status) for log in long_attempts} == {("report_chord_long", Status.ERROR)}
    assert len(logs_of(report, "error")) == 1
    assert not logs_of(report, "finished")
    assert logs_of(report, "error")[0].created_dt >= max(log.finished_dt for log in long_attempts)


def test_group_runs_finished_after_its_first_task_while_the_others_still_run(worker):
    report_id = find_report_id("group", finished_fires_early, start=IdRange.GROUP_FINISHED_EARLY)

    report = run_report(ReportGroup, report_id)

    (finished_run,) = logs_of(report, "finished")
    (short,) = logs_of(report, "short")
    long_done = max(log.finished_dt for log in logs_of(report, "long"))
    assert short.finished_dt <= finished_run.created_dt < long_done
    assert report.status == Status.FINISHED
    assert LONG_STILL_RUNNING.search(report.callback_summary())  # and medium, if the callback beat it
    assert "“error” ran 0 times" in report.callback_summary()


def test_group_runs_finished_early_and_error_once_when_its_long_task_fails_for_good(worker):
    report_id = find_report_id("group", long_fails_for_good, start=IdRange.GROUP_LONG_FAILS)

    run_report(ReportGroup, report_id)
    time.sleep(1)
    report = ReportGroup.objects.get(pk=report_id)

    (finished_run,) = logs_of(report, "finished")
    (error_run,) = logs_of(report, "error")
    assert finished_run.created_dt < error_run.created_dt
    assert (finished_run.status, error_run.status) == (Status.FINISHED, Status.ERROR)  # what each set
    assert report.status == Status.ERROR  # the early "finished" did not have the last word
    assert "“error” ran 1 time." in report.callback_summary()


def test_retries_are_logged_with_increasing_numbers_under_their_own_task_name(worker):
    def case(story, report_id):
        medium = story["medium"]
        return (
            report_id % 5
            and len(medium) == 3
            and medium[0].error == CONNECTIVITY_FAILURE
            and succeeds_first_time(story["short"])
            and succeeds_first_time(story["long"])
            and quick(story, longest=1.5)
        )

    report_id = find_report_id("group", case, start=IdRange.GROUP_RETRIES)

    report = run_report(ReportGroup, report_id)

    medium = logs_of(report, "medium")
    assert [(log.task_name, log.retry, log.status) for log in medium] == [
        ("report_group_medium", 0, Status.ERROR),
        ("report_group_medium", 1, Status.ERROR),
        ("report_group_medium", 2, Status.FINISHED),
    ]
    assert all(earlier.finished_dt <= later.created_dt for earlier, later in itertools.pairwise(medium))


def test_the_same_seed_tells_the_same_story_twice(worker):
    def case(story, report_id):
        return report_id % 5 and quick(story, longest=1.0) and any(a.error for s in story.values() for a in s)

    report_id = find_report_id("chord", case, start=IdRange.CHORD_RETRIES)
    predicted = predicted_story("chord", report_id)

    first = outcome(run_report(ReportChord, report_id))
    ReportChord.objects.filter(pk=report_id).delete()
    second = outcome(run_report(ReportChord, report_id))

    assert first == second
    expected_attempts = sorted(
        (f"report_chord_{step}", retry, Status.ERROR if story.error else Status.FINISHED)
        for step, attempts in predicted.items()
        for retry, story in enumerate(attempts)
    )
    assert [entry for entry in first if not entry[0].endswith(("finished", "error"))] == expected_attempts
