"""A lesson interrupted, or whose worker is killed, leaves nothing behind: no process, no
message on its queues, no row.

In the embedded pass only: the real-services pass checks each lesson's queues are deleted from
RabbitMQ and Redis (tests/test_lessons_verdicts.py), and the interruption is the same there.
"""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from lessons.lab import Lab
from lessons.models import LessonRun, Specimen
from lessons.runs import run_lesson
from tests.lessons_utils import lesson_processes, queues_left
from tests.utils import BASE_DIR, wait_until


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"), reason="runs in the embedded pass"
)
def test_ctrl_c_in_the_middle_of_a_lesson_stops_every_process_it_started(transactional_db, tmp_path):
    """Ctrl-C once the lesson's workers hold a task each: its workers, their pools and its
    queues' messages are gone when the command has exited, and the run says it was interrupted."""
    out = tmp_path / "out.txt"
    with open(out, "w") as stdout:
        command = subprocess.Popen(
            [sys.executable, "manage.py", "lesson", "shutdown-window"],
            cwd=BASE_DIR,
            env={**os.environ, "DJANGO_CONFIGURATION": "Test"},
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: "stopping both" in out.read_text(), timeout=60, message=out.read_text())
        run = LessonRun.objects.get()
        started = lesson_processes(run.pk)
        assert len(started) >= 4  # two workers, each with its pool process

        command.send_signal(signal.SIGINT)
        assert command.wait(timeout=30) != 0
    finally:
        command.kill()
        command.wait()

    assert lesson_processes(run.pk) == []
    assert all(not Path(f"/proc/{pid}").exists() for pid in started)
    run.refresh_from_db()
    assert (run.status, run.verdict) == (LessonRun.Status.ERROR, "error: KeyboardInterrupt: ")
    assert run.finished_dt is not None and "acks_late-1" in run.log
    assert not Lab(run).folder.exists()
    assert queues_left(run) == []
    assert not Specimen.objects.exists()


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"), reason="runs in the embedded pass"
)
def test_a_lesson_whose_worker_is_killed_ends_not_confirmed_and_leaves_nothing(transactional_db, settings):
    settings.LESSONS_TIME_SCALE = 0.2  # its waits for what the dead worker never does: 4 s, not 20

    def kill_the_worker(text):
        ready = re.search(r"worker ready \(pid (\d+),", text)
        if ready:
            os.kill(int(ready.group(1)), signal.SIGKILL)

    run = run_lesson(LessonRun.objects.create(lesson="pass-pks").pk, say=kill_the_worker)

    assert run.status == LessonRun.Status.NOT_CONFIRMED
    assert run.observation["acted_on"] == {"data": [], "pk": []}
    assert lesson_processes(run.pk) == []  # its pool process too
    assert queues_left(run) == []
    assert not Specimen.objects.exists()
