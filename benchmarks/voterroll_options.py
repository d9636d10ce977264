"""Run every option on the same fake voters and print how long each took.

    DJANGO_CONFIGURATION=Dev VAR_DIR=var/bench .venv/bin/python benchmarks/voterroll_options.py [N]

Needs a worker on the same settings (`celery -A project worker --concurrency=4`). Replaces the
voter data there with N (default 100,000) fake voters first.
"""
import sys
import time

from django_setup import setup_django

setup_django()

from voterroll.fake_data import replace_voter_data  # noqa: E402
from voterroll.models import ALIASES, RollRun  # noqa: E402
from voterroll.tasks import queue_run  # noqa: E402


def wait_for_outcome(run, timeout=30 * 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RollRun.Status.FINISHED, RollRun.Status.FAILED):
            return run
        time.sleep(0.2)
    raise SystemExit(f"{run} recorded no outcome in {timeout} s")


def main(voters):
    centers = replace_voter_data(voters)
    print(f"{voters} voters in {centers} centers")
    columns = ["option", "status", "seconds", "stations", "pages", "tasks", "pages/s"]
    print(" ".join(f"{column:>8}" for column in columns))
    for alias, option in ALIASES.items():
        run = wait_for_outcome(queue_run(option))
        seconds = (run.finished_at - run.started_at).total_seconds()
        rate = f"{run.pages / seconds:.0f}" if run.pages else "-"
        values = [alias, run.status, f"{seconds:.2f}", run.stations, run.pages, run.tasks, rate]
        print(" ".join(f"{value:>8}" for value in values))
        time.sleep(3)  # option 2 and error leave sub-tasks running after the run has failed


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
