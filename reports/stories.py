"""The seeded "story" of one attempt of a demo task: how long it works, whether it fails, and
how long it waits before the next try.

Every draw comes from a generator seeded with (REPORTS_SEED, task, report, attempt), so the
same seed tells the same story on any worker, and tests can predict it.
"""

import random
from dataclasses import dataclass

from django.conf import settings

# Seconds each work step sleeps, before REPORTS_TIME_SCALE.
WORK_SECONDS = {"short": (1, 10), "medium": (10, 30), "long": (10, 100)}
MAX_RETRIES = 5
BACKOFF_MAX = 500  # seconds, before the time scale

CONNECTIVITY_FAILURE = "API Connectivity Failure"
UNRECOVERABLE_ERROR = "Unrecoverable API error"


@dataclass(frozen=True)
class AttemptStory:
    duration: float  # seconds the attempt works
    error: str | None  # the message it fails with; None when it succeeds
    retry_countdown: float  # seconds to wait before the next attempt, should this one fail


def task_name(kind, step):
    """The registered name of a step's task for one report kind, e.g. ``report_chord_long``."""
    return f"report_{kind}_{step}"


def attempt_story(kind, step, report_id, attempt):
    """What attempt number ``attempt`` (0 for the first) of ``step`` does for one report.

    Callback steps (finished, error) have no work and never fail on purpose; their story only
    gives a back-off for a retry after an unexpected error.
    """
    scale = settings.REPORTS_TIME_SCALE
    draws = random.Random(f"{settings.REPORTS_SEED}:{task_name(kind, step)}:{report_id}:{attempt}")
    low, high = WORK_SECONDS.get(step, (0, 0))
    duration = draws.uniform(low, high) * scale
    connectivity_fails = draws.random() < settings.REPORTS_FAILURE_RATE
    jitter = draws.random()

    error = None
    if step in WORK_SECONDS:
        if connectivity_fails:
            error = CONNECTIVITY_FAILURE
        elif step == "long" and report_id % 5 == 0:
            error = UNRECOVERABLE_ERROR
    # Celery's exponential back-off with full jitter (a factor of 1 s, capped), computed here
    # because Celery's own draws whole seconds and cannot take a fractional time scale.
    backoff = min(BACKOFF_MAX, 2**attempt)
    return AttemptStory(duration=duration, error=error, retry_countdown=jitter * backoff * scale)


def work_time_limits(step):
    """Soft and hard time limits for a work step: its longest scaled sleep on top of the project's.

    The demo tasks are long on purpose (up to 100 s at full scale), so they opt out of the
    project's 25/30 s limits, which they would overrun; the price is that a worker's 30 s
    graceful shutdown may cut one short, and acks_late then runs that attempt again.
    """
    longest = WORK_SECONDS[step][1] * settings.REPORTS_TIME_SCALE
    return {
        "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT + longest,
        "time_limit": settings.CELERY_TASK_TIME_LIMIT + longest,
    }
