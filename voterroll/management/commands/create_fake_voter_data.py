import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from voterroll.fake_data import MAX_VOTERS, VOTERS_PER_CENTER, person_names, replace_voter_data
from voterroll.management.replacing import confirm_replacing
from voterroll.runs import RunRefused


class Command(BaseCommand):
    help = (
        "Replace all voter data with N fake voters, registered across about "
        f"N/{VOTERS_PER_CENTER} polling centers of uneven sizes. Asks first when voters exist "
        "(--yes to skip the question)."
    )
    # As createsuperuser: tests hand in a stand-in for the terminal.
    stealth_options = ("stdin",)

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
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace the voters that exist without asking (for scripts: without a terminal "
            "and without --yes, existing voters are left alone and the command fails)",
        )

    def handle(self, *args, voters, seed, locale, yes, **options):
        locales = [name.strip() for value in locale or ["en_US"] for name in value.split(",")]
        try:
            for name in locales:  # before asking: a typo should not cost a question
                person_names(name)
        except LookupError as unknown:
            raise CommandError(str(unknown)) from None
        if not yes:
            with commands_refuse_outages():
                confirm_replacing(self, options.get("stdin", sys.stdin), f"creates {voters:,} new voters")
        with tqdm(total=voters, unit="voters", desc="voters", disable=None) as bar:
            try:
                with commands_refuse_outages():
                    centers = replace_voter_data(voters, seed=seed, locales=locales, progress=bar.update)
            except RunRefused as refused:
                raise CommandError(f"Voter data left unchanged: {refused}") from None
            except KeyboardInterrupt:
                message = "Interrupted: the voter data is as it was (it is replaced in one transaction)."
                raise CommandError(message, returncode=130) from None
        self.stdout.write(self.style.SUCCESS(f"Created {voters} voters in {centers} polling centers."))
