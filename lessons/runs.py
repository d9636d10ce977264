"""Running a lesson, from the command or from the admin's Run button through a task, and
recording what it showed."""

import shutil

from django.db import transaction
from django.utils import timezone

from . import registry
from .lab import Lab
from .models import LessonRun

STATUS_OF = {
    True: LessonRun.Status.CONFIRMED,
    False: LessonRun.Status.NOT_CONFIRMED,
    None: LessonRun.Status.SKIPPED,
}


def queue_lesson(slug, user=None):
    """A new run of lesson ``slug``, sent to the project's worker once it is saved."""
    from .tasks import run_lesson as run_lesson_task

    registry.get(slug)  # UnknownLesson before anything is saved
    run = LessonRun.objects.create(lesson=slug, started_by=user)
    transaction.on_commit(lambda: run_lesson_task.delay(run.pk))
    return run


def run_lesson(run_id, say=lambda text: None):
    """Run the lesson of run ``run_id`` here and now, telling its progress to ``say``; record
    the outcome. Interrupted or broken, the run is recorded as an error (and the error raised)
    once the lesson's processes are stopped."""
    run = LessonRun.objects.get(pk=run_id)
    lesson = registry.get(run.lesson)
    run.status, run.started_dt = LessonRun.Status.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_dt"])
    progress = []

    def note(text):
        progress.append(text)
        say(text)

    lab = Lab(run, note)
    try:
        with lab:
            outcome = lesson.experiment(lab)
    except BaseException as error:  # Ctrl-C too: the record says so, then the error goes on
        record(run, lab, progress, LessonRun.Status.ERROR, f"error: {type(error).__name__}: {error}", {})
        raise
    record(run, lab, progress, STATUS_OF[outcome.confirmed], outcome.verdict, outcome.observation)
    return run


def record(run, lab, progress, status, verdict, observation):
    run.status, run.verdict, run.observation = status, verdict, observation
    run.timeline = lab.timeline()
    run.log = "\n".join(progress) + "\n\n" + lab.logs()
    run.finished_dt = timezone.now()
    run.save()
    shutil.rmtree(lab.folder, ignore_errors=True)
