"""Fake voters, registered across polling centers of realistically uneven sizes.

Faker's generator costs tens of microseconds a name; a million voters would take minutes
on names alone. Names are drawn instead from Faker's own weighted name lists with a seeded
random.Random, and rows go in as a register file's do (voterroll.loading).
"""

import contextlib
import importlib
import random

from faker.config import AVAILABLE_LOCALES

from .loading import BATCH_SIZE, replace_all
from .models import Voter

VOTERS_PER_CENTER = 1000
# A national roll: Libya's has about 2.8 million voters. Each voter's number is drawn at once,
# so memory grows with N (about 1 GB at this limit), and centers have five-digit numbers.
MAX_VOTERS = 10_000_000
# Dirichlet concentration: small values make a few big centers and many small ones.
CENTER_SIZE_CONCENTRATION = 2.0
# Center names: a family name and a kind of school ("Smith High School"), or in Arabic the kind
# first ("مدرسة الفاتح").
SCHOOL_KINDS = [
    "Primary School",
    "Secondary School",
    "High School",
    "Preparatory School",
    "Girls' School",
    "Boys' School",
    "Elementary School",
    "Secondary School for Girls",
]
ARABIC_SCHOOL_KINDS = ["مدرسة", "مدرسة الشهيد", "ثانوية", "معهد", "مجمع مدارس", "روضة"]


def name_list(names):
    """(names, weights) from a Faker list: a tuple, or an OrderedDict of name -> frequency."""
    if isinstance(names, dict):
        return list(names), list(names.values())
    return list(names), None


def center_sizes(voters, centers, rng):
    """Split ``voters`` over ``centers``, at least one each, in Dirichlet-like proportions."""
    weights = [rng.gammavariate(CENTER_SIZE_CONCENTRATION, 1.0) for _ in range(centers)]
    total = sum(weights)
    spare = voters - centers
    shares = [spare * weight / total for weight in weights]
    sizes = [1 + int(share) for share in shares]
    # Hand the voters lost to rounding down to the largest remainders.
    by_remainder = sorted(range(centers), key=lambda n: shares[n] - int(shares[n]), reverse=True)
    for n in by_remainder[: voters - sum(sizes)]:
        sizes[n] += 1
    return sizes


def person_names(locale):
    """Faker's person-name provider for ``locale``; LookupError when Faker has none for it."""
    if locale in AVAILABLE_LOCALES:
        with contextlib.suppress(ModuleNotFoundError):
            return importlib.import_module(f"faker.providers.person.{locale}").Provider
    raise LookupError(f"Faker has no person names for locale {locale!r}; try en_US, ar_AA or fr_FR.")


class Names:
    """One locale's names, by gender: (names, weights) lists to draw from."""

    def __init__(self, locale):
        provider = person_names(locale)
        self.arabic = locale.startswith("ar")

        def gendered(kind, gender):
            # Most locales split first names by gender, and some also last names (Полина Иванова).
            return name_list(getattr(provider, f"{kind}_{gender}", getattr(provider, kind)))

        self.first = {
            Voter.Gender.FEMALE: gendered("first_names", "female"),
            Voter.Gender.MALE: gendered("first_names", "male"),
        }
        self.last = {
            Voter.Gender.FEMALE: gendered("last_names", "female"),
            Voter.Gender.MALE: gendered("last_names", "male"),
        }

    def center_name(self, rng):
        last = rng.choice(self.last[Voter.Gender.MALE][0])
        if self.arabic:
            return f"{rng.choice(ARABIC_SCHOOL_KINDS)} {last}"
        return f"{last} {rng.choice(SCHOOL_KINDS)}"


def replace_voter_data(voters, seed=0, locales=("en_US",), progress=None):
    """Replace every center, voter, registration and assignment with ``voters`` new voters.

    Each voter is a woman or a man, with a name of that gender from one of ``locales``
    (Faker locales, drawn at random for each voter and each center's name). Returns the
    number of centers. ``progress`` (a callable) is told the size of each batch of voters
    inserted. One transaction, refused while a run is active (loading.replace_all).
    """
    names = [Names(locale) for locale in dict.fromkeys(locales)]
    rng = random.Random(seed)
    centers = max(1, round(voters / VOTERS_PER_CENTER))
    sizes = center_sizes(voters, centers, rng)
    center_numbers = sorted(rng.sample(range(10_000, 100_000), centers))
    voter_numbers = rng.sample(range(10**11, 10**12), voters)
    genders = [Voter.Gender.FEMALE, Voter.Gender.MALE]
    center_rows = [(number, rng.choice(names).center_name(rng)) for number in center_numbers]

    def voter_rows():
        center_keys = (pk for pk, size in enumerate(sizes, start=1) for _ in range(size))
        for start in range(0, voters, BATCH_SIZE):
            count = min(BATCH_SIZE, voters - start)
            # A batch's draws for every (locale, gender) at once: far cheaper than one by one.
            drawn = {
                (n, gender): zip(
                    rng.choices(*locale.first[gender], k=count),
                    rng.choices(*locale.last[gender], k=count),
                    strict=True,
                )
                for n, locale in enumerate(names)
                for gender in genders
            }
            voter_locales = rng.choices(range(len(names)), k=count) if len(names) > 1 else [0] * count
            for offset, locale in enumerate(voter_locales):
                gender = genders[rng.random() < 0.5]
                first, last = next(drawn[locale, gender])
                yield (voter_numbers[start + offset], f"{first} {last}", gender, next(center_keys))

    replace_all(center_rows, voter_rows(), progress)
    return centers
