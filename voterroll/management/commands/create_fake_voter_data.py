from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from voterroll.fake_data import MAX_VOTERS, VOTERS_PER_CENTER, replace_voter_data
from voterroll.runs import RunRefused


class Command(BaseCommand):
    help = (
        "Replace all voter data with N fake voters, registered across about "
        f"N/{VOTERS_PER_CENTER} polling centers of uneven sizes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "voters",
            metavar="N",
            type=positive_integer(MAX_VOTERS),
            help=f"how many voters, up to {MAX_VOTERS:,}",
        )
        parser.add_argument("--seed", type=int, default=0, help="same seed, same voters")
        parser.add_argument(
            "--locale",
            action="append",
            help="Faker locale of the names, e.g. ar_AA; several (repeated, or ar_AA,en_US) mix "
            "them, drawn at random for each voter and center (default en_US)",
        )

    def handle(self, *args, voters, seed, locale, **options):
        locales = [name.strip() for value in locale or ["en_US"] for name in value.split(",")]
        with tqdm(total=2 * voters, unit="rows", desc="voters, registrations") as bar:
            try:
                with commands_refuse_outages():
                    centers = replace_voter_data(voters, seed=seed, locales=locales, progress=bar.update)
            except RunRefused as refused:
                raise CommandError(f"Voter data left unchanged: {refused}") from None
            except LookupError as unknown:
                raise CommandError(str(unknown)) from None
            except KeyboardInterrupt:
                message = "Interrupted: the voter data is as it was (it is replaced in one transaction)."
                raise CommandError(message, returncode=130) from None
        self.stdout.write(self.style.SUCCESS(f"Created {voters} voters in {centers} polling centers."))
