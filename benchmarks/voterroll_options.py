"""Every option on the same voters, from queueing to the final callback, beside the ceiling.

    .venv/bin/python benchmarks/voterroll_options.py [--voters N[,N...]] [--processes P] [--repeat R]
                                                     [--options 1,5b,5c] [--s3]

Runs against the database and broker the environment names (DJANGO_CONFIGURATION=Dev, the
embedded stack under VAR_DIR, unless DATABASE_URL and CELERY_BROKER_URL say otherwise). It
migrates, replaces the voter data with N fake voters (100,000) unless it holds N already,
starts its own worker with P processes (2) and stops it at the end. Several sizes
(``--voters 10000,100000,1000000``) run one after the other, and a last table shows each
option's seconds per 100,000 voters at every size: flat when the option grows linearly.

The ceiling is what the PDF writer alone does (each station's roll and sign) on one process (their
voters read beforehand), times P: no messages, no results, no database. Each option is
printed with its seconds (the median of R runs), its speed-up over option 1 and its pages/s
as a share of that ceiling; "busy" is how much of the run its tasks kept the P processes
busy. Then the worker's memory, and how long the run page of the largest run takes to render.

The files go to the local file system. With --s3 the options run a second time with every
file on S3 (moto's server, started here: its CPU shares the machine with the worker, so the
cost it shows is an upper bound of a store elsewhere), and the cost of S3 per station is printed.
"""

import argparse
import os
import platform
import re
import tempfile
import time
from pathlib import Path

from django_setup import setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from project.stack import media_storage  # noqa: E402
from tests.s3_stack import moto_store  # noqa: E402
from tests.workers import running_worker  # noqa: E402
from voterroll import files  # noqa: E402
from voterroll.fake_data import replace_voter_data  # noqa: E402
from voterroll.models import RollRun, Voter  # noqa: E402
from voterroll.options import Option  # noqa: E402
from voterroll.pdf import roll_pdf, sign_pdf, station_gender  # noqa: E402
from voterroll.runs import start_run, wait_for_outcome  # noqa: E402
from voterroll.stations import assign_stations, station_voters, stations_of  # noqa: E402

# Stations the ceiling writes at most, spread over all of them.
CEILING_SAMPLE = 400


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def ceiling_pages_per_second(stations):
    """Pages a second of the bare writer on one process, over a sample of the run's stations."""
    sample = stations[:: max(1, len(stations) // CEILING_SAMPLE)]
    voters = [(center, station, station_voters(center, station)) for center, station, _ in sample]
    station_pdfs(1, 1, voters[0][2])  # loads the font
    pages = 0
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for center, station, rows in voters:
            roll, written, sign = station_pdfs(center, station, rows)
            Path(folder, f"center_{center}_{station}.pdf").write_bytes(roll)
            Path(folder, f"center_{center}_{station}_sign.pdf").write_bytes(sign)
            pages += written
        return pages / (time.perf_counter() - started)


def station_pdfs(center, station, rows):
    """What a station task draws: its roll (bytes and pages, as the run counts them) and its sign."""
    roll, pages = roll_pdf(center, "Benchmark School", station, rows, timezone.now())
    gender = station_gender(gender for _, _, gender in rows)
    sign = sign_pdf(center, "Benchmark School", station, gender, rows[0][1], rows[-1][1])
    return roll, pages, sign


def peak_memory_mb(worker):
    """Peak resident memory of a worker's main process and of its largest pool process, in MB."""

    def peak(pid):
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return peak(worker.pid), max(map(peak, children))


def wait_for_every_pdf(run, stations, timeout=600):
    """Options 2 and error fail their run while their other tasks still print: let them end."""
    deadline = time.monotonic() + timeout
    while len(run.rolls()) < stations and time.monotonic() < deadline:
        time.sleep(0.2)


def busy_share(run, processes):
    """Time the run's tasks worked (its body aside) over the time its processes had."""
    bars = run.timeline.get("bars", [])
    worked = sum(end - start for _, kind, start, end in bars if kind != "callback") / 1000
    return worked / (processes * run_seconds(run))


def run_seconds(run):
    return (run.finished_dt - run.queued_dt).total_seconds()


def render_seconds(run):
    """Seconds for the admin page of ``run``, timeline included, as a superuser sees it."""
    client = Client(SERVER_NAME="localhost")
    user, _ = get_user_model().objects.get_or_create(
        username="benchmark", defaults={"is_superuser": True, "is_staff": True}
    )
    client.force_login(user)
    try:
        client.get(f"/admin/voterroll/rollrun/{run.pk}/change/")  # templates compiled
        response, seconds = timed(client.get, f"/admin/voterroll/rollrun/{run.pk}/change/")
        assert response.status_code == 200, response.status_code
        return seconds
    finally:
        user.delete()


def save_milliseconds(stations, saves=100):
    """Median milliseconds this process takes to store one roll of a typical station."""
    center, station, _ = stations[len(stations) // 2]
    data, _, _ = station_pdfs(center, station, station_voters(center, station))
    folder = f"voterroll/benchmark-{os.getpid()}"
    seconds = []
    for n in range(saves):
        _, elapsed = timed(files.save, files.roll_name(folder, n, 1), data)
        seconds.append(elapsed)
    files.delete_folder(folder)
    return sorted(seconds)[saves // 2] * 1000, len(data)


def run_options(options, processes, repeat, stations, storage_env):
    """The median run of each option, on a worker of its own; and that worker's peak memory."""
    # As the Procfile starts it: these settings, DEBUG off.
    configuration = {
        "DJANGO_CONFIGURATION": os.environ["DJANGO_CONFIGURATION"],
        "DEBUG": "False",
        **storage_env,
    }
    runs = {}
    with running_worker(
        "benchmark-worker", f"--concurrency={processes}", "--purge", env=configuration
    ) as worker:
        for option in options:
            timings = []
            for _ in range(repeat):
                run = wait_for_outcome(start_run(option), timeout=60 * 60)
                if run is None:
                    raise SystemExit(f"{option.alias} recorded no outcome in an hour")
                if run.status == RollRun.Status.FAILED:
                    wait_for_every_pdf(run, len(stations))
                timings.append(run)
            runs[option] = sorted(timings, key=run_seconds)[len(timings) // 2]
        return runs, peak_memory_mb(worker)


def print_runs(runs, processes, ceiling):
    reference = run_seconds(runs[Option.ALL_IN_ONE]) if Option.ALL_IN_ONE in runs else None
    print()
    print("| option | outcome | seconds | vs 1 | pages/s | of ceiling | busy | tasks |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for run in runs.values():
        option = Option(run.option)
        seconds = run_seconds(run)
        if run.status == RollRun.Status.FINISHED:
            rate = run.pages / seconds
            figures = [
                f"{reference / seconds:.2f}x" if reference else "-",
                f"{rate:,.0f}",
                f"{rate / ceiling:.0%}",
                f"{busy_share(run, processes):.0%}",
            ]
        else:
            figures = ["-", "-", "-", "-"]
        print(
            f"| {option.alias} | {run.status} | {seconds:.2f} | "
            + " | ".join(figures)
            + f" | {run.tasks:,} |"
        )
    print()


def print_s3_cost(on_disk, on_s3, processes, stations):
    """Each option's seconds on both storages, and what S3 adds per station (its roll and sign:
    two objects), in process time."""
    print("| option | file system s | S3 s | S3 adds per station |")
    print("|---|---:|---:|---:|")
    for option, run in on_s3.items():
        disk, s3 = run_seconds(on_disk[option]), run_seconds(run)
        per_station = (s3 - disk) * processes / len(stations) * 1000
        print(f"| {option.alias} | {disk:.2f} | {s3:.2f} | {per_station:+.1f} ms |")
    print()


def main(sizes, processes, repeat, options, s3):
    call_command("migrate", verbosity=0)
    database = connection.vendor
    if database == "postgresql":
        database += f" {connection.cursor().connection.info.server_version}"
    broker = settings.CELERY_BROKER_URL.partition("://")[0]
    machine = platform.processor() or platform.machine()
    print(f"machine:  {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"stack:    {database}, broker {broker}, {processes} worker processes")
    by_size = {}
    for voters in sizes:
        print(f"\n## {voters:,} voters\n")
        by_size[voters] = run_size(voters, processes, repeat, options, s3)
    if len(sizes) > 1:
        print_growth(by_size)


def print_growth(by_size):
    """Each option's seconds, and seconds per 100,000 voters, at every size."""
    sizes = list(by_size)
    print("Growth with N: seconds (seconds per 100,000 voters)\n")
    print("| option | " + " | ".join(f"{size:,}" for size in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for option in by_size[sizes[0]]:
        cells = []
        for size in sizes:
            seconds = run_seconds(by_size[size][option])
            cells.append(f"{seconds:.2f} ({seconds * 100_000 / size:.2f})")
        print(f"| {option.alias} | " + " | ".join(cells) + " |")
    print()


def run_size(voters, processes, repeat, options, s3):
    """The options at ``voters`` voters, printed; their median runs, by option."""
    if Voter.objects.count() != voters or Voter.objects.filter(gender="").exists():
        centers, seconds = timed(replace_voter_data, voters)
        print(f"data:     {voters:,} fake voters in {centers:,} centers in {seconds:.1f} s")
    assigned, seconds = timed(assign_stations)
    stations = stations_of()
    print(f"assign:   {assigned:,} voters to {len(stations):,} stations in {seconds:.2f} s")
    ceiling = processes * ceiling_pages_per_second(stations)
    alone = ceiling / processes
    print(
        f"ceiling:  {ceiling:,.0f} pages/s (the writer alone: {alone:,.0f} pages/s a process, x {processes})"
    )

    on_disk = {"S3_BUCKET": ""}  # the file system, whatever the environment says
    with override_settings(STORAGES={**settings.STORAGES, "default": media_storage_of(on_disk)}):
        disk_save, size = save_milliseconds(stations)
        runs, (main_mb, process_mb) = run_options(options, processes, repeat, stations, on_disk)
    print_runs(runs, processes, ceiling)
    if s3:
        with (
            moto_store("benchmark") as on_s3,
            override_settings(STORAGES={**settings.STORAGES, "default": media_storage_of(on_s3)}),
        ):
            s3_save, _ = save_milliseconds(stations)
            s3_runs, _ = run_options(options, processes, repeat, stations, on_s3)
        print("With every file on S3 (moto):")
        print_runs(s3_runs, processes, ceiling)
        print_s3_cost(runs, s3_runs, processes, stations)
        print(
            f"store:    one roll ({size / 1024:.0f} KiB) saved in {disk_save:.1f} ms on the file "
            f"system, {s3_save:.1f} ms on S3"
        )
    print(
        f"worker:   peak memory {main_mb:.0f} MB (main process), {process_mb:.0f} MB (largest pool process)"
    )
    largest = max(runs.values(), key=lambda run: len(run.timeline.get("bars", [])))
    bars = len(largest.timeline["bars"])
    print(f"admin:    run page with {bars:,} timeline bars in {render_seconds(largest):.2f} s")
    return runs


def media_storage_of(variables):
    """STORAGES["default"] for S3_* ``variables`` (what the worker reads from its environment)."""
    names = ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
    chosen = {name: variables.get(name) for name in names}
    return media_storage(
        argparse.Namespace(**chosen, S3_ADDRESSING_STYLE=variables.get("S3_ADDRESSING_STYLE", "auto"))
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voters", default="100000", help="voters, or several sizes: 10000,100000,1000000")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per option; the median is shown")
    parser.add_argument("--options", default=",".join(option.alias for option in Option))
    parser.add_argument("--s3", action="store_true", help="run the options again with the files on S3")
    arguments = parser.parse_args()
    chosen = [Option.from_alias(alias) for alias in arguments.options.split(",")]
    if None in chosen:
        parser.error(f"unknown option in {arguments.options!r}")
    try:
        sizes = [int(size) for size in arguments.voters.split(",")]
    except ValueError:
        parser.error(f"--voters takes whole numbers separated by commas, not {arguments.voters!r}")
    main(sizes, arguments.processes, arguments.repeat, chosen, arguments.s3)
