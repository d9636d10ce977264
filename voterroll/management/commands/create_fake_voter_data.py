from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from project.arguments import positive_integer
from voterroll.fake_data import VOTERS_PER_CENTER, replace_voter_data
from voterroll.runs import RunRefused


class Command(BaseCommand):
    help = (
        "Replace all voter data with N fake voters, registered across about "
        f"N/{VOTERS_PER_CENTER} polling centers of uneven sizes."
    )

    def add_arguments(self, parser):
        parser.add_argument("voters", metavar="N", type=positive_integer, help="how many voters")
        parser.add_argument("--seed", type=int, default=0, help="same seed, same voters")
        parser.add_argument("--locale", default="en_US", help="Faker locale of the names")

    def handle(self, *args, voters, seed, locale, **options):
        with tqdm(total=2 * voters, unit="rows", desc="voters, registrations") as bar:
            try:
                centers = replace_voter_data(voters, seed=seed, locale=locale, progress=bar.update)
            except RunRefused as refused:
                raise CommandError(f"Voter data left unchanged: {refused}") from None
            except ModuleNotFoundError:
                raise CommandError(f"Faker has no person names for locale {locale!r}.") from None
        self.stdout.write(self.style.SUCCESS(f"Created {voters} voters in {centers} polling centers."))
