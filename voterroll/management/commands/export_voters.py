import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from project.outages import commands_refuse_outages
from voterroll.models import VoterRegistration
from voterroll.register_file import export_register


class Command(BaseCommand):
    help = (
        "Write every registered voter to a register file that import_voters reads back: CSV, "
        "UTF-8 with a byte-order mark (so that spreadsheets read Arabic right), by center."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", type=Path, help="where to write it (replaced whole)")

    def handle(self, *args, file, **options):
        # Beside the target, renamed over it once complete: never half a register under its name.
        try:
            descriptor, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".part")
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror}.") from None
        try:
            with (
                commands_refuse_outages(),
                os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as out,
                tqdm(total=VoterRegistration.objects.count(), unit=" voters", disable=None) as bar,
            ):
                voters = export_register(out, bar.update)
            os.chmod(temporary, 0o644)
            os.replace(temporary, file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"Exported {voters} voters to {file}."))
