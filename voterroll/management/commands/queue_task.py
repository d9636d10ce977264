from django.core.management.base import BaseCommand, CommandError

from voterroll.models import ALIASES, Option
from voterroll.runs import RunRefused
from voterroll.tasks import queue_run


def option_list():
    aliases = {option: alias for alias, option in ALIASES.items()}
    return "\n".join(f"  {aliases[option]:>5}  {option.value}" for option in Option)


class Command(BaseCommand):
    help = "Queue one way of generating every station's voter list, by name or alias:\n" + option_list()

    def add_arguments(self, parser):
        parser.add_argument("option", help="an option name or its alias (1, 2, 3, 4, 5a, 5b, error)")

    def handle(self, *args, option, **options):
        chosen = Option.from_alias(option)
        if chosen is None:
            raise CommandError(f"Unknown option {option!r}. Choose one of:\n{option_list()}")
        try:
            run = queue_run(chosen)
        except RunRefused as refused:
            raise CommandError(f"Nothing queued: {refused}") from None
        self.stdout.write(
            self.style.SUCCESS(f"Queued {run}; its PDFs go to {run.output_path}. Watch the worker log.")
        )
