from django.core.management.base import BaseCommand, CommandError

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from voterroll.models import RollRun
from voterroll.options import Option
from voterroll.runs import RunRefused, start_run, wait_for_outcome


def option_list():
    return "\n".join(f"  {option.alias:>5}  {option.value}" for option in Option)


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
                run = start_run(chosen)
        except RunRefused as refused:
            raise CommandError(f"Nothing queued: {refused}") from None
        self.stdout.write(f"Queued {run}; its rolls go to {run.output_dir} in storage.")
        if wait is None:
            self.stdout.write(self.style.SUCCESS("Watch the worker log, or the run in the admin."))
            return
        try:
            ended = wait_for_outcome(run, timeout=wait)
        except KeyboardInterrupt:
            raise CommandError(f"Stopped waiting; {run} goes on.", returncode=130) from None
        if ended is None:
            raise CommandError(f"{run} has not ended after {wait} s; is a worker running?")
        if ended.status == RollRun.Status.FAILED:
            raise CommandError(f"{ended} failed: {ended.error}")
        seconds = (ended.finished_dt - ended.queued_dt).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"{ended} finished {seconds:.2f} s after it was queued: {ended.stations} stations, "
                f"{ended.pages} pages, {ended.tasks} tasks."
            )
        )
