"""What the lesson tests share: running a lesson here, and finding what it left behind."""

from pathlib import Path

from lessons.models import LessonRun
from lessons.runs import run_lesson


def run(slug):
    """Lesson ``slug`` run to its verdict in this process, on workers of its own."""
    return run_lesson(LessonRun.objects.create(lesson=slug).pk)


def lesson_processes(run_id):
    """The pids of every process still running for lesson run ``run_id`` (its workers, their
    pools, its beats): each carries the run's events file in its environment."""
    marker = f"/lessons/run-{run_id}/events.jsonl".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found
