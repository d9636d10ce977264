"""What the lesson tests share: running a lesson here, and finding what it left behind."""

import re
from pathlib import Path

from django.conf import settings
from kombu import Connection
from kombu.exceptions import ChannelError

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


def queues_left(run_):
    """The lesson's queues (named in its workers' logs) that its broker still has, or holds
    messages for."""
    names = set(re.findall(rf"\blesson-{run_.pk}-[0-9a-f]{{6}}-\w+", run_.log))
    assert names, "no queue named in the lesson's log"
    left = []
    for name in sorted(names):
        broker = name.rsplit("-", 1)[1]
        url = {"redis": settings.LESSONS_REDIS_URL, "rabbitmq": settings.LESSONS_RABBITMQ_URL}.get(
            broker, settings.CELERY_BROKER_URL
        )
        if url.startswith("filesystem://"):
            folders = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            if list(Path(folders["data_folder_in"]).glob(f"*.{name}.msg")) or list(
                Path(folders["claimed_folder"]).glob(f"*/*.{name}.msg")
            ):
                left.append(name)
        elif url.startswith("redis://"):
            with Connection(url) as connection:
                if list(connection.default_channel.client.scan_iter(match=f"*{name}*")):
                    left.append(name)
        else:
            with Connection(url) as connection:
                try:
                    connection.default_channel.queue_declare(name, passive=True)
                except ChannelError:  # NOT_FOUND: deleted
                    continue
                left.append(name)
    return left
