"""Time create_fake_voter_data's work and the set-based station assignment at scale.

    DJANGO_CONFIGURATION=Dev VAR_DIR=var/bench .venv/bin/python benchmarks/voterroll_fake_data.py [N]

Runs against the database the settings name, migrated first; N defaults to 1,000,000. It
replaces all voter data there.
"""

import sys
import time

from django_setup import setup_django

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from voterroll.fake_data import replace_voter_data  # noqa: E402
from voterroll.stations import assign_stations, stations_of  # noqa: E402


def main(voters):
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    start = time.perf_counter()
    centers = replace_voter_data(voters)
    elapsed = time.perf_counter() - start
    print(f"fake data:  {voters} voters in {centers} centers in {elapsed:.1f} s", end=" ")
    print(f"({voters / elapsed:,.0f} voters/s)")
    start = time.perf_counter()
    assigned = assign_stations()
    elapsed = time.perf_counter() - start
    print(f"stations:   {assigned} voters assigned to {len(stations_of())} stations in {elapsed:.1f} s")
    start = time.perf_counter()
    assign_stations([1])
    print(f"one center: re-assigned in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
