"""The one way voter data comes in: every center and voter replaced at once, as a bulk load.

Fake data (voterroll.fake_data) and a register file (voterroll.register_file) both come through
``replace_all``: rows go in as plain tuples, many to a statement, under explicit primary keys,
into tables emptied and filled as bulk loads (project.db.reloading), in one transaction.
"""

from django.core.management.color import no_style
from django.db import connection, reset_queries, transaction

from project.db import reloading

from . import runs
from .models import PollingCenter, RollRun, StationAssignment, Voter, VoterRegistration

BATCH_SIZE = 5000


def replace_all(centers, voters, progress=None):
    """Delete every center, voter, registration and assignment; insert ``centers`` ((number,
    name) pairs, keys 1, 2, … in order) and ``voters`` ((number, name, gender, center key)
    tuples, keys 1, 2, …, read once as they come). Return how many voters went in.

    ``progress`` (a callable) is told the size of each batch of voters inserted. One
    transaction: on any error, or Ctrl-C, the old data is still there. Refused
    (runs.RunRefused) while a run is active: it would print voters that no longer exist.
    """
    inserted = 0
    with transaction.atomic():
        runs.refuse_while_a_run_is_active(keep_new_runs_out=True)
        # Runs outlive the data; their center link does not.
        RollRun.objects.filter(center__isnull=False).update(center=None)
        # Dependents first. Emptied and filled as bulk loads: no dead rows, no index kept up
        # to date row by row, no key checked row by row.
        with reloading(StationAssignment), reloading(VoterRegistration), reloading(Voter):
            PollingCenter.objects.all().delete()  # a few thousand rows; runs still point at it
            for batch in batches(enumerate(centers, start=1)):
                insert(PollingCenter, ["id", "number", "name"], [(pk, *center) for pk, center in batch])
            for batch in batches(enumerate(voters, start=1)):
                insert(Voter, ["id", "number", "name", "gender"], [(pk, *voter[:3]) for pk, voter in batch])
                insert(VoterRegistration, ["voter_id", "center_id"], [(pk, voter[3]) for pk, voter in batch])
                inserted += len(batch)
                # With DEBUG on (Dev), Django keeps the text of every statement, hundreds of KB
                # for a batch: a million voters would hold on to about 100 MB.
                reset_queries()
                if progress:
                    progress(len(batch))
        # Explicit primary keys bypass PostgreSQL's sequences: point them past the new rows.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [PollingCenter, Voter]):
                cursor.execute(sql)
    return inserted


def batches(rows, size=BATCH_SIZE):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert(model, columns, rows):
    """Insert ``rows`` (tuples of ``columns``) into ``model``'s table in one statement: COPY on
    PostgreSQL (its bulk-load path: 200,000 voters imported in 4–9 s instead of 16 with
    INSERT, on a busy machine), one many-row INSERT elsewhere.

    Plain tuples: building a million model instances for bulk_create cost more than the
    inserts themselves.
    """
    quote = connection.ops.quote_name
    into = f"{quote(model._meta.db_table)} ({', '.join(map(quote, columns))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {into} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        row = f"({', '.join(['%s'] * len(columns))})"
        cursor.execute(
            f"INSERT INTO {into} VALUES {', '.join([row] * len(rows))}",
            [value for values in rows for value in values],
        )
