"""Fake voters, registered across polling centers of realistically uneven sizes.

Faker's generator costs tens of microseconds a name; a million voters would take minutes
on names alone. Names are drawn instead from Faker's own weighted name lists with a seeded
random.Random, and rows go in with batched inserts under explicit primary keys.
"""

import contextlib
import importlib
import random

from django.core.management.color import no_style
from django.db import connection, transaction
from faker.config import AVAILABLE_LOCALES

from project.db import reloading

from . import runs
from .models import PollingCenter, RollRun, StationAssignment, Voter, VoterRegistration

VOTERS_PER_CENTER = 1000
# A national roll: Libya's has about 2.8 million voters. Each voter's number is drawn at once,
# so memory grows with N (about 1 GB at this limit), and centers have five-digit numbers.
MAX_VOTERS = 10_000_000
BATCH_SIZE = 5000
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


def batches(rows, size=BATCH_SIZE):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    """Delete every center, voter, registration and assignment; create ``voters`` new ones.

    Each voter is a woman or a man, with a name of that gender from one of ``locales``
    (Faker locales, drawn at random for each voter and each center's name). Returns the
    number of centers. ``progress`` (a callable) is told the size of each batch of rows
    inserted (voters, then registrations: 2 * ``voters`` in all). One transaction: on any
    error the old data is still there. Refused (runs.RunRefused) while a run is active: it
    would print voters that no longer exist.
    """
    names = [Names(locale) for locale in dict.fromkeys(locales)]
    rng = random.Random(seed)
    centers = max(1, round(voters / VOTERS_PER_CENTER))
    sizes = center_sizes(voters, centers, rng)
    center_numbers = sorted(rng.sample(range(10_000, 100_000), centers))
    voter_numbers = rng.sample(range(10**11, 10**12), voters)
    genders = [Voter.Gender.FEMALE, Voter.Gender.MALE]

    def voter_rows():
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
                pk = start + offset + 1
                gender = genders[rng.random() < 0.5]
                first, last = next(drawn[locale, gender])
                yield (pk, voter_numbers[pk - 1], f"{first} {last}", gender)

    def registration_rows():
        voter_pk = 0
        for center_pk, size in enumerate(sizes, start=1):
            for _ in range(size):
                voter_pk += 1
                yield (voter_pk, center_pk)

    with transaction.atomic():
        runs.refuse_while_a_run_is_active(keep_new_runs_out=True)
        # Runs outlive the data; their center link does not.
        RollRun.objects.filter(center__isnull=False).update(center=None)
        # Dependents first. Emptied and filled as bulk loads: no dead rows, no index kept up
        # to date row by row, no key checked row by row (project.db.reloading).
        with reloading(StationAssignment), reloading(VoterRegistration), reloading(Voter):
            PollingCenter.objects.all().delete()  # a thousand rows; runs still point at it
            PollingCenter.objects.bulk_create(
                PollingCenter(
                    id=n,
                    number=number,
                    name=rng.choice(names).center_name(rng),
                )
                for n, number in enumerate(center_numbers, start=1)
            )
            insert_rows(Voter, ["id", "number", "name", "gender"], voter_rows(), progress)
            insert_rows(VoterRegistration, ["voter_id", "center_id"], registration_rows(), progress)
        # Explicit primary keys bypass PostgreSQL's sequences: point them past the new rows.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [PollingCenter, Voter]):
                cursor.execute(sql)
    return centers


def insert_rows(model, columns, rows, progress=None):
    """Insert ``rows`` (tuples of ``columns``) into ``model``'s table, many to a statement.

    Plain tuples: building a million model instances for bulk_create cost more than the
    inserts themselves.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(map(quote, columns))
    row = f"({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for batch in batches(rows):
            values = ", ".join([row] * len(batch))
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {values}", [v for r in batch for v in r])
            if progress:
                progress(len(batch))
