"""Fake voters, registered across polling centers of realistically uneven sizes.

Faker's generator costs tens of microseconds a name; a million voters would take minutes
on names alone. Names are drawn instead from Faker's own weighted name lists with a seeded
random.Random, and rows go in with batched inserts under explicit primary keys.
"""
import importlib
import random

from django.core.management.color import no_style
from django.db import connection, transaction

from . import runs
from .models import PollingCenter, RollRun, StationAssignment, Voter, VoterRegistration

VOTERS_PER_CENTER = 1000
BATCH_SIZE = 5000
# Dirichlet concentration: small values make a few big centers and many small ones.
CENTER_SIZE_CONCENTRATION = 2.0
SCHOOL_KINDS = [
    "Primary School", "Secondary School", "High School", "Preparatory School",
    "Girls' School", "Boys' School", "Elementary School", "Secondary School for Girls",
]  # fmt: skip


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


def refuse_while_a_run_is_active():
    """Raise RunRefused if a run is active; else keep new runs out until the transaction ends.

    On PostgreSQL the table lock conflicts with the INSERT that creates a run, so a run
    cannot start between this check and the data it would print being replaced. SQLite
    needs nothing more: its write transactions (BEGIN IMMEDIATE here) already run one at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(RollRun._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    active = runs.active_run()
    if active is not None:
        raise runs.RunRefused(runs.busy_message(active))


def replace_voter_data(voters, seed=0, locale="en_US", progress=None):
    """Delete every center, voter, registration and assignment; create ``voters`` new ones.

    Returns the number of centers. ``progress`` (a callable) is told the size of each batch
    of rows inserted (voters, then registrations: 2 * ``voters`` in all). One transaction:
    on any error the old data is still there. Refused (runs.RunRefused) while a run is
    active: it would print voters that no longer exist.
    """
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    first_names, first_weights = name_list(provider.first_names)
    last_names, last_weights = name_list(provider.last_names)
    rng = random.Random(seed)
    centers = max(1, round(voters / VOTERS_PER_CENTER))
    sizes = center_sizes(voters, centers, rng)
    center_ids = sorted(rng.sample(range(10_000, 100_000), centers))
    voter_ids = rng.sample(range(10**11, 10**12), voters)

    def voter_rows():
        for start in range(0, voters, BATCH_SIZE):
            count = min(BATCH_SIZE, voters - start)
            firsts = rng.choices(first_names, first_weights, k=count)
            lasts = rng.choices(last_names, last_weights, k=count)
            for offset, (first, last) in enumerate(zip(firsts, lasts)):
                pk = start + offset + 1
                yield Voter(id=pk, voter_id=voter_ids[pk - 1], voter_name=f"{first} {last}")

    def registration_rows():
        voter_pk = 0
        for center_pk, size in enumerate(sizes, start=1):
            for _ in range(size):
                voter_pk += 1
                yield VoterRegistration(id=voter_pk, voter_id=voter_pk, center_id=center_pk)

    with transaction.atomic():
        refuse_while_a_run_is_active()
        # Runs outlive the data; their center link does not.
        RollRun.objects.filter(center__isnull=False).update(center=None)
        # Plain DELETEs, dependents first: the ORM's delete() would load a million voters
        # to cascade to rows that are already gone.
        with connection.cursor() as cursor:
            for model in (StationAssignment, VoterRegistration, Voter, PollingCenter):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        PollingCenter.objects.bulk_create(
            PollingCenter(
                id=n, center_id=center_id,
                center_name=f"{rng.choice(last_names)} {rng.choice(SCHOOL_KINDS)}",
            )
            for n, center_id in enumerate(center_ids, start=1)
        )  # fmt: skip
        for batch in batches(voter_rows()):
            Voter.objects.bulk_create(batch)
            if progress:
                progress(len(batch))
        for batch in batches(registration_rows()):
            VoterRegistration.objects.bulk_create(batch)
            if progress:
                progress(len(batch))
        # Explicit primary keys bypass PostgreSQL's sequences: point them past the new rows.
        with connection.cursor() as cursor:
            models = [PollingCenter, Voter, VoterRegistration]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    return centers
