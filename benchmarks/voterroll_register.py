"""Time export_voters and import_voters at scale: rows a second and each command's peak memory.

    DJANGO_CONFIGURATION=Dev VAR_DIR=var/bench .venv/bin/python benchmarks/voterroll_register.py [N ...]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_register ... (the same, on PostgreSQL)

Against the database the settings name, migrated first; N defaults to 100,000 and 1,000,000.
It replaces all voter data there: fake data (Arabic and Latin names), exported, then imported
again. Each step is a manage.py command in a process of its own, started by this small one
(which never loads Django: a forked child's peak memory counts its parent's at the fork), so
each peak (from wait4) is the command's own; "startup" is import_voters on a one-voter file, to
tell what the rows cost.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HEADER = "voter_number,name,gender,center_number,center_name\n"


def command(*args):
    """Run a manage.py command in its own process group; return (seconds, peak RSS in MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        os.killpg(process.pid, 9)
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} exited with {process.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main(sizes):
    command("migrate", "--verbosity=0")
    print(f"database: {os.environ.get('DATABASE_URL', 'the embedded default')}")
    with tempfile.TemporaryDirectory() as folder:
        tiny = Path(folder) / "tiny.csv"
        tiny.write_text(HEADER + "1,Ali,M,1,School\n")
        command("import_voters", str(tiny), "--yes")  # deleting what an earlier run left costs memory too
        _, startup = command("import_voters", str(tiny), "--yes")
        print(f"startup: import_voters of one voter peaks at {startup:.0f} MB")
        for voters in sizes:
            command("create_fake_voter_data", str(voters), "--locale=ar_AA,en_US", "--yes")
            register = Path(folder) / f"register-{voters}.csv"
            seconds, peak = command("export_voters", str(register))
            size = register.stat().st_size / 2**20
            print(f"export {voters:>9,} voters: {seconds:5.1f} s, {voters / seconds:>9,.0f} rows/s, ", end="")
            print(f"peak {peak:.0f} MB, file {size:.0f} MB")
            seconds, peak = command("import_voters", str(register), "--yes")
            print(f"import {voters:>9,} voters: {seconds:5.1f} s, {voters / seconds:>9,.0f} rows/s, ", end="")
            print(f"peak {peak:.0f} MB ({(peak - startup) * 2**20 / voters:.0f} bytes a voter over startup)")
            print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main([int(size) for size in sys.argv[1:]] or [100_000, 1_000_000])
