"""Each lesson run for real, on workers it starts, with the verdict and the figures behind it.

The lessons whose claim holds on any broker run in the embedded pass; the real-services pass
runs the ones about a broker or a database: the visibility timeout (on Redis and RabbitMQ),
the shutdown window (a broker hands back an unacknowledged task) and enqueue on commit (the
database's isolation).
"""

import os

import pytest
from django.conf import settings

from lessons.lab import Lab
from lessons.models import LessonRun
from tests.lessons_utils import lesson_processes, queues_left, run

EMBEDDED = settings.CELERY_BROKER_URL.startswith("filesystem://")
REAL_SERVICES = {"visibility-timeout", "shutdown-window", "enqueue-on-commit"}
# pass-pks: tests/test_lessons_command.py runs it through the command.


def lesson_test(slug):
    """Where lesson ``slug``'s test runs: see the module's docstring."""
    if slug in REAL_SERVICES:
        return pytest.mark.skipif(EMBEDDED, reason="runs in the real-services pass (make test-real)")
    return pytest.mark.skipif(not EMBEDDED, reason="runs in the embedded pass (make test-embedded)")


def ended_cleanly(run_):
    """Nothing of the lesson left: no process, no queue, no folder."""
    assert lesson_processes(run_.pk) == []
    assert queues_left(run_) == []
    assert not Lab(run_).folder.exists()


@lesson_test("visibility-timeout")
def test_redis_delivers_a_task_with_a_long_countdown_again_and_rabbitmq_once(transactional_db):
    unreachable = Lab(LessonRun(pk=0)).unreachable("redis")
    if unreachable and os.environ.get("REQUIRE_REAL_SERVICES") != "1":
        pytest.skip(unreachable)

    lesson = run("visibility-timeout")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    runs = lesson.observation["runs"]
    assert runs["redis"] > 1 and runs["rabbitmq"] == 1
    assert f"on Redis the task ran {runs['redis']} times, on RabbitMQ 1 time" in lesson.verdict
    ended_cleanly(lesson)


@lesson_test("shutdown-window")
def test_a_task_cut_off_at_shutdown_runs_again_with_acks_late_and_is_lost_without(transactional_db):
    lesson = run("shutdown-window")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    assert lesson.observation["acks_late"] == {"start": 2, "end": 1}
    assert lesson.observation["early_ack"] == {"start": 1, "end": 0}
    outcomes = sorted(bar["outcome"] for bar in lesson.timeline["bars"])
    assert outcomes == ["cut", "cut", "ran"]  # two bars cut off, one re-delivery that ran
    ended_cleanly(lesson)


@lesson_test("two-beats")
def test_two_beats_enqueue_a_periodic_task_twice(transactional_db):
    lesson = run("two-beats")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    scheduled, sent = lesson.observation["scheduled"], lesson.observation["sent"]
    assert scheduled == 6  # every 0.5 s for 3 s
    assert set(sent) == {"beat-a", "beat-b"} and all(count >= 4 for count in sent.values())
    assert sum(sent.values()) >= 1.6 * scheduled  # the task ran about twice as often as scheduled
    ended_cleanly(lesson)


@lesson_test("enqueue-on-commit")
def test_a_task_queued_inside_a_transaction_misses_its_row_and_on_commit_finds_it(transactional_db):
    lesson = run("enqueue-on-commit")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    assert lesson.observation["found"] == {"inside": [False], "on_commit": [True]}
    ended_cleanly(lesson)


@lesson_test("no-get-in-task")
def test_get_inside_a_task_is_refused_forced_it_deadlocks_and_a_chord_finishes(transactional_db):
    lesson = run("no-get-in-task")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    assert "Never call result.get() within a task" in lesson.observation["refused"][0]
    assert lesson.observation["forced"][0].startswith("TimeoutError")
    assert lesson.observation["sub_task_ran_after_the_wait"] is True
    assert lesson.observation["chord_body_runs"] == 1
    ended_cleanly(lesson)


@lesson_test("errbacks")
def test_a_groups_link_error_runs_per_failure_and_a_chords_errback_once(transactional_db):
    lesson = run("errbacks")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    assert lesson.observation["group"] == {"failed": 2, "errback": 2, "end": 1}
    assert lesson.observation["chord"] == {"failed": 2, "errback": 1, "end": 1}
    assert lesson.observation["chord_body_runs"] == 0
    ended_cleanly(lesson)


@lesson_test("starmap-serial")
def test_starmap_runs_its_calls_serially_and_chunks_send_fewer_messages(transactional_db):
    lesson = run("starmap-serial")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    starmap, grouped = lesson.observation["starmap"], lesson.observation["group"]
    assert (starmap["messages"], starmap["processes"]) == (1, 1)
    assert (grouped["messages"], grouped["processes"]) == (6, 2)
    assert starmap["seconds"] > grouped["seconds"]
    assert lesson.observation["chunks"]["messages"] == 2
    ended_cleanly(lesson)


@lesson_test("chord-unlock")
def test_a_backend_without_a_chord_counter_polls_with_chord_unlock_and_ours_does_not(transactional_db):
    lesson = run("chord-unlock")

    assert lesson.status == LessonRun.Status.CONFIRMED, lesson.verdict
    assert lesson.observation["file_backend"]["chord_unlock_messages"] >= 2
    assert lesson.observation["database_backend"] == {"chord_unlock_messages": 0, "body_runs": 1}
    ended_cleanly(lesson)
