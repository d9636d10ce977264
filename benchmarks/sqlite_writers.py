"""How many concurrent read-then-write transactions fail with "database is locked" on SQLite?

Four processes (like a worker's pool) each run 250 short transactions that read a row and then
write it, the shape of most task bodies. Run with the default BEGIN (DEFERRED) and with the
project's BEGIN IMMEDIATE, and print the failures of each.

    .venv/bin/python benchmarks/sqlite_writers.py
"""

import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time

import django

PROCESSES, TRANSACTIONS = 4, 250


def configure_django(database, mode):
    from django.conf import settings

    from project.stack import database_config

    config = database_config(f"sqlite:///{database}")
    config["OPTIONS"]["transaction_mode"] = mode
    settings.configure(DATABASES={"default": config}, INSTALLED_APPS=[], USE_TZ=True)
    django.setup()


def writer(database, mode, failures):
    configure_django(database, mode)
    from django.db import OperationalError, connection, transaction

    failed = 0
    for _ in range(TRANSACTIONS):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT value FROM counter WHERE id = 1")
                (value,) = cursor.fetchone()
                time.sleep(0.001)  # the task's own work between read and write
                cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])
        except OperationalError:
            failed += 1
    failures.put(failed)


def run(mode):
    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "bench.sqlite3")
        with sqlite3.connect(database) as db:
            db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
            db.execute("INSERT INTO counter VALUES (1, 0)")
        failures = multiprocessing.Queue()
        started = time.perf_counter()
        workers = [
            multiprocessing.Process(target=writer, args=(database, mode, failures)) for _ in range(PROCESSES)
        ]
        for process in workers:
            process.start()
        for process in workers:
            process.join()
        elapsed = time.perf_counter() - started
        failed = sum(failures.get() for _ in workers)
        with sqlite3.connect(database) as db:
            (value,) = db.execute("SELECT value FROM counter").fetchone()
    total = PROCESSES * TRANSACTIONS
    print(
        f"{mode:9}  {failed:4d} of {total} transactions failed ('database is locked'), "
        f"counter {value} (expected {total - failed}), {elapsed:.1f} s"
    )


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for mode in ("DEFERRED", "IMMEDIATE"):
        run(mode)
