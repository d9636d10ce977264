import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from voterroll.models import RollRun
from voterroll.options import Option
from voterroll.progress import run_progress
from voterroll.runs import RunRefused, start_run, wait_for_outcome


def option_list():
    return "\n".join(f"  {option.alias:>5}  {option.value}" for option in Option)


# Seconds between two progress lines when the output is not a terminal (a log, CI).
LINE_EVERY = 3.0


class Command(BaseCommand):
    help = "Queue one way of writing every station's roll, by name or alias:\n" + option_list()

    def add_arguments(self, parser):
        aliases = ", ".join(option.alias for option in Option)
        parser.add_argument("option", help=f"an option name or its alias ({aliases})")
        parser.add_argument(
            "--wait",
            metavar="SECONDS",
            type=positive_integer(24 * 60 * 60),
            help="wait up to this long for the run to end; exit non-zero if it failed or is still going",
        )

    def handle(self, *args, option, wait, **options):
        chosen = Option.from_alias(option)
        if chosen is None:
            raise CommandError(f"Unknown option {option!r}. Choose one of:\n{option_list()}")
        try:
            with commands_refuse_outages():
                run = start_run(chosen, started_from="command queue_task")
        except RunRefused as refused:
            raise CommandError(f"Nothing queued: {refused}") from None
        self.stdout.write(f"Queued {run}; its rolls go to {run.output_dir} in storage.")
        if wait is None:
            self.stdout.write(self.style.SUCCESS("Watch the worker log, or the run in the admin."))
            return
        try:
            ended = self.wait_showing_progress(run, wait)
        except KeyboardInterrupt:
            raise CommandError(f"Stopped waiting; {run} goes on.", returncode=130) from None
        if ended is None:
            raise CommandError(f"{run} has not ended after {wait} s and goes on; is a worker running?")
        if ended.status == RollRun.Status.FAILED:
            raise CommandError(f"{ended} failed: {ended.error}")
        seconds = (ended.finished_dt - ended.queued_dt).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"{ended} finished {seconds:.2f} s after it was queued: {ended.stations} stations, "
                f"{ended.pages} pages, {ended.tasks} tasks."
            )
        )

    def wait_showing_progress(self, run, timeout):
        """Wait for ``run`` to end, showing its progress: a bar on a terminal, else a line every
        LINE_EVERY seconds. The run ended, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        on_terminal = self.stdout.isatty()
        bar = (
            tqdm(total=1000, file=self.stdout, bar_format="{bar} {desc}", leave=False)
            if on_terminal
            else None
        )
        next_line = time.monotonic()
        try:
            while True:
                run.refresh_from_db()
                progress = run_progress(run)
                line = progress.summary() if progress else f"{run.status}, waiting for a worker"
                if bar is not None:
                    bar.n = round(1000 * (progress.share or 0)) if progress else 0
                    bar.set_description_str(line)
                elif time.monotonic() >= next_line:
                    self.stdout.write(f"{run}: {line}")
                    next_line = time.monotonic() + LINE_EVERY
                ended = wait_for_outcome(run, timeout=min(0.5, max(0.0, deadline - time.monotonic())))
                if ended is not None or time.monotonic() >= deadline:
                    return ended
        finally:
            if bar is not None:
                bar.close()
