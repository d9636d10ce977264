from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from voterroll.fake_data import VOTERS_PER_CENTER, replace_voter_data
from voterroll.runs import RunRefused


class Command(BaseCommand):
    help = (
        "Replace all voter data with N fake voters, registered across about "
        f"N/{VOTERS_PER_CENTER} polling centers of uneven sizes."
    )

    def add_arguments(self, parser):
        # A string, so that a bad N gets this command's message rather than argparse's.
        parser.add_argument("voters", metavar="N", help="how many voters (a positive integer)")
        parser.add_argument("--seed", type=int, default=0, help="same seed, same voters")
        parser.add_argument("--locale", default="en_US", help="Faker locale of the names")

    def handle(self, *args, voters, seed, locale, **options):
        text = voters
        voters = int(text) if text.strip().isdigit() else 0
        if voters < 1:
            raise CommandError(f"N must be a positive integer, not {text!r}; voter data left unchanged.")
        with tqdm(total=2 * voters, unit="rows", desc="voters, registrations") as bar:
            try:
                centers = replace_voter_data(voters, seed=seed, locale=locale, progress=bar.update)
            except RunRefused as refused:
                raise CommandError(f"Voter data left unchanged: {refused}") from None
            except ModuleNotFoundError:
                raise CommandError(f"Faker has no person names for locale {locale!r}.") from None
        self.stdout.write(self.style.SUCCESS(f"Created {voters} voters in {centers} polling centers."))
