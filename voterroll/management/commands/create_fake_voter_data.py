import sys

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize
from tqdm import tqdm

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from voterroll.fake_data import MAX_VOTERS, VOTERS_PER_CENTER, person_names, replace_voter_data
from voterroll.models import PollingCenter, Voter
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
                self.confirm(voters, options.get("stdin", sys.stdin))
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

    def confirm(self, voters, stdin):
        """Ask on a terminal before existing voters are replaced; refuse without one."""
        existing = Voter.objects.count()
        if not existing:
            return
        centers = PollingCenter.objects.count()
        what = f"{existing:,} voter{pluralize(existing)} in {centers:,} polling center{pluralize(centers)}"
        if not stdin.isatty():
            raise CommandError(
                f"{what} exist and would all be replaced; nothing changed. "
                "Run it again with --yes to replace them."
            )
        self.stdout.write(
            f"This deletes all {what}, their stations and registrations, and creates {voters:,} "
            "new voters.\nType 'yes' to replace them: ",
            ending="",
        )
        self.stdout.flush()
        try:
            answer = stdin.readline().strip().lower()
        except KeyboardInterrupt:
            raise CommandError(f"Interrupted: the {what} are as they were.", returncode=130) from None
        if answer != "yes":
            raise CommandError(f"Not replaced: the {what} are as they were.")
