import json
import signal

from django.core.management.base import BaseCommand, CommandError

from lessons import registry
from lessons.models import LessonRun
from lessons.runs import run_lesson

EXIT_CODES = {LessonRun.Status.CONFIRMED: 0, LessonRun.Status.NOT_CONFIRMED: 1, LessonRun.Status.SKIPPED: 3}


class Command(BaseCommand):
    help = (
        "Run a lesson: the experiment behind one of the talk's or Celery docs' warnings, on workers "
        "of its own. Without a name (or with --list), list the lessons. Exits 0 when the observation "
        "confirms the claim, 1 when it does not, 3 when a service it needs is not reachable."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the lesson's name, as --list prints it")
        parser.add_argument("--list", action="store_true", help="list the lessons and their claims")

    def handle(self, name, list, **options):
        if list or not name:
            for lesson in registry.LESSONS.values():
                self.stdout.write(f"{lesson.slug}: {lesson.name}\n    {lesson.claim} ({lesson.source})")
            return
        try:
            lesson = registry.get(name)
        except registry.UnknownLesson as unknown:
            raise CommandError(str(unknown)) from None
        self.stdout.write(f"{lesson.name}\nClaim: {lesson.claim}\nSource: {lesson.source}\n")
        run = LessonRun.objects.create(lesson=lesson.slug)
        # A process manager's stop is a Ctrl-C: the lesson stops its workers before exiting. And
        # Ctrl-C is one even when this process was started with SIGINT ignored (a background job
        # of a non-interactive shell), which Python would otherwise leave ignored.
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {stop: signal.signal(stop, signal.default_int_handler) for stop in stops}
        try:
            run = run_lesson(run.pk, say=self.stdout.write)
        finally:
            for stop, handler in previous.items():
                signal.signal(stop, handler)
        self.stdout.write(f"\nObservation: {json.dumps(run.observation)}\nVerdict: {run.verdict}")
        self.stdout.write(f"(lesson run {run.pk}; in the admin with its timeline and its workers' logs)")
        if EXIT_CODES[run.status]:
            raise CommandError(f"{run.status}", returncode=EXIT_CODES[run.status])
