import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from project.outages import commands_refuse_outages
from voterroll.management.replacing import confirm_replacing
from voterroll.register_file import RegisterProblems, import_register
from voterroll.runs import RunRefused


class Command(BaseCommand):
    help = (
        "Replace all voter data with a register file: CSV, UTF-8, a header row naming the columns "
        "(README, 'Bring your own register'). All or nothing: a file with any wrong line changes "
        "nothing, and every problem is listed by line. Asks first when voters exist (--yes to "
        "skip the question)."
    )
    # As createsuperuser: tests hand in a stand-in for the terminal.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", type=Path, help="the register, a CSV file")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace the voters that exist without asking (for scripts: without a terminal "
            "and without --yes, existing voters are left alone and the command fails)",
        )

    def handle(self, *args, file, yes, **options):
        try:
            size = file.stat().st_size
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        if not yes:
            with commands_refuse_outages():
                confirm_replacing(self, options.get("stdin", sys.stdin), f"imports the voters of {file}")
        progress = Bars()
        try:
            with commands_refuse_outages():
                voters, centers = import_register(lambda: file.open("rb"), size, progress)
        except RegisterProblems as refused:
            progress.close()
            for line in refused.lines():
                self.stderr.write(line)
            count = len(refused.problems) + refused.more
            raise CommandError(
                f"{file}: {count} problem(s), listed above; the voter data is unchanged."
            ) from None
        except RunRefused as refused:
            raise CommandError(f"Voter data left unchanged: {refused}") from None
        except KeyboardInterrupt:
            message = "Interrupted: the voter data is as it was (it is replaced in one transaction)."
            raise CommandError(message, returncode=130) from None
        finally:
            progress.close()
        self.stdout.write(self.style.SUCCESS(f"Imported {voters} voters in {centers} polling centers."))


class Bars:
    """import_register's progress as a bar per phase, on a terminal only (tqdm's disable=None)."""

    def __init__(self):
        self.phase = self.bar = None

    def __call__(self, phase, done, total):
        if phase != self.phase:
            self.close()
            self.phase = phase
            unit = {"unit": "B", "unit_scale": True} if phase == "checking" else {"unit": " voters"}
            self.bar = tqdm(total=total, desc=phase, disable=None, **unit)
        self.bar.update(done - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
