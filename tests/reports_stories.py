"""Pick report ids whose seeded story gives a test the case it needs, and what it leads to."""

import enum
import itertools
import re

from reports.models import REPORT_MODELS, Status
from reports.stories import MAX_RETRIES, attempt_story
from tests.utils import wait_until

# What a group report's summary says when "finished" ran while long still worked.
LONG_STILL_RUNNING = re.compile(r"while (medium and )?long (was|were) still running")


def predicted_attempts(kind, step, report_id):
    """The stories of a step's attempts for one report, up to its success or its last retry."""
    stories = []
    for attempt in range(MAX_RETRIES + 1):
        stories.append(attempt_story(kind, step, report_id, attempt))
        if stories[-1].error is None:
            break
    return stories


def predicted_story(kind, report_id):
    return {step: predicted_attempts(kind, step, report_id) for step in ("short", "medium", "long")}


@enum.unique  # two tests starting at the same number fail at import
class IdRange(enum.IntEnum):
    """Where each test that hunts for a report id starts looking, one range per test.

    High numbers, apart: their ids never meet the auto-increment ones, nor each other's, so a
    task still in flight from one test never touches another's report.
    """

    CHORD_ALL_SUCCEED = 10_000
    CHORD_LONG_FAILS = 20_000
    GROUP_FINISHED_EARLY = 30_000
    GROUP_LONG_FAILS = 40_000
    GROUP_RETRIES = 50_000
    CHORD_RETRIES = 60_000
    BROWSER_GROUP_FINISHED_EARLY = 70_000
    REDELIVERY = 90_000
    FAULTS_CHORD = 100_000
    FAULTS_GROUP = 110_000
    QUEUE_WAIT = 140_000
    RETRY_WAIT = 150_000
    FAILURE_NAMED = 160_000
    BROWSER_PROCESSING = 170_000
    BACKLOG = 120_000
    LATE_CALLBACK = 130_000


def find_report_id(kind, wanted, start):
    """The first id from ``start`` (an IdRange) whose predicted story satisfies ``wanted(story, id)``."""
    return next(i for i in itertools.count(start) if wanted(predicted_story(kind, i), i))


def find_report_ids(kind, wanted, start, count):
    """The first ``count`` ids from ``start`` whose predicted story satisfies ``wanted``."""
    matches = (i for i in itertools.count(start) if wanted(predicted_story(kind, i), i))
    return list(itertools.islice(matches, count))


def quick(story, longest=0.6):
    return all(total_seconds(attempts) <= longest for attempts in story.values())


def succeeds_first_time(attempts):
    return len(attempts) == 1 and attempts[0].error is None


def total_seconds(attempts):
    return sum(a.duration + (a.retry_countdown if a.error else 0) for a in attempts)


def finished_fires_early(story, report_id):
    """Short succeeds at once; long retries and runs on for 2 s or more; nothing fails for good.

    The 2 s leave the callback's round trip through the broker room to spare on a loaded
    machine. Medium cannot give as much: at the tests' time scale an attempt lasts 0.3 s at
    most, and 2 s of medium takes five failures in a row (not one id in millions).
    """
    short, medium, long = story["short"], story["medium"], story["long"]
    return (
        report_id % 5
        and succeeds_first_time(short)
        and short[0].duration < 0.04
        and medium[-1].error is None
        and long[-1].error is None
        and total_seconds(long) >= 2
        and quick(story, longest=3)
    )


def long_and_sure(story, report_id):
    """Every task succeeds at once, and long works 0.9 s or more (of 1 s at most)."""
    all_at_once = all(map(succeeds_first_time, story.values()))
    return report_id % 5 and all_at_once and story["long"][0].duration >= 0.9


def long_fails_for_good(story, report_id):
    """Long fails on every attempt, all within 2.5 s; short and medium succeed at once."""
    return (
        report_id % 5 == 0
        and succeeds_first_time(story["short"])
        and succeeds_first_time(story["medium"])
        and total_seconds(story["long"]) <= 2.5
    )


def predicted_outcome(kind, report_id):
    """(status, {callback: runs}) the report's seeded story leads to."""
    model = REPORT_MODELS[kind]
    outcomes = {
        step: Status.FINISHED if attempts[-1].error is None else Status.ERROR
        for step, attempts in predicted_story(kind, report_id).items()
    }
    callbacks = model(pk=report_id).expected_callback_runs(outcomes)
    return (Status.ERROR if Status.ERROR in outcomes.values() else Status.FINISHED), callbacks


def settled(model, report_id):
    def report_if_settled():
        report = model.objects.get(pk=report_id)
        return None if report.is_in_progress() else report

    return wait_until(
        report_if_settled, timeout=120, message=f"{model.kind} report {report_id} never settled"
    )
