from django.core.management.base import BaseCommand, CommandError

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from voterroll.models import RollRun
from voterroll.record import verify


class Command(BaseCommand):
    help = (
        "Check every file of a finished run against its job record (metadata.json, itself checked "
        "against metadata.json.sha256): exits non-zero, naming each file, on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", metavar="RUN_ID", type=positive_integer(2**63 - 1), help="the run's id")

    def handle(self, *args, run_id, **options):
        with commands_refuse_outages():
            run = RollRun.objects.filter(pk=run_id).first()
            if run is None:
                raise CommandError(f"There is no run {run_id}.")
            if run.files_deleted_dt:
                raise CommandError(f"{run}'s files were deleted on {run.files_deleted_dt:%Y-%m-%d}.")
            problems, checked = verify(run)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{run}: {len(problems)} problem(s) with its files; see above.")
        self.stdout.write(self.style.SUCCESS(f"{run}: all {checked} files match its job record."))
