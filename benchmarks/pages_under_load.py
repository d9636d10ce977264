"""Admin pages under load: 20 clients on the report list, a report page, the run list and the
page of the run going on, while option 5c runs over 200,000 voters, one run after the other.

    .venv/bin/python benchmarks/pages_under_load.py [--server runserver|gunicorn|both|none]
                                                    [--clients 20] [--seconds 30] [--voters 200000]
                                                    [--reports 2000]

Runs against the database and broker the environment names (DJANGO_CONFIGURATION=Dev: the
embedded stack under VAR_DIR unless DATABASE_URL and CELERY_BROKER_URL say otherwise). It
migrates, replaces the voter data with N fake voters unless it holds N already, adds REPORTS
finished reports (half chords, half groups, a typical story each; deleted at the end), and
starts, each in its own process group and stopped at the end, a worker of two processes and
the web server on 127.0.0.1: ``runserver`` as ``make run`` starts it (Dev, DEBUG on), and/or
gunicorn as the image starts it (3 workers of 4 threads; DEBUG off). Every client is a thread
with a logged-in session of its own, asking for the four pages in turn, as fast as answers
come, for SECONDS; 5c runs are started one after the other meanwhile. Printed per page: the
requests, requests/s, p50 and p95 (ms), and failures; then each page's queries and
milliseconds alone (in this process, while a run goes on and after it), first: ``--server
none`` prints only those (``--voters 1000000``: a run page at a million voters).
"""

import argparse
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import requests
from django_setup import BASE_DIR, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from reports_admin import add_finished_reports  # noqa: E402

from project.processes import running, wait_until  # noqa: E402
from reports.models import ReportChord, ReportGroup  # noqa: E402
from tests.workers import running_worker  # noqa: E402
from voterroll.fake_data import replace_voter_data  # noqa: E402
from voterroll.models import RollRun, Voter  # noqa: E402
from voterroll.options import Option  # noqa: E402
from voterroll.runs import active_run, start_run, wait_for_outcome  # noqa: E402

BENCHMARK = "pages_under_load benchmark"
USERNAME = "load-benchmark"


def add_reports(count):
    """``count`` finished reports, half chords and half groups, made an hour ago."""
    created = timezone.now() - timedelta(hours=1)
    for model in (ReportChord, ReportGroup):
        add_finished_reports(model, count // 2, created, created_from=BENCHMARK)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_command(server, port):
    if server == "runserver":
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    return [
        *[sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", f"127.0.0.1:{port}"],
        *["--workers", "3", "--worker-class", "gthread", "--threads", "4"],
    ]


def server_env(server):
    """The server's environment: this one's stack, DEBUG as the server's usual configuration has it."""
    return {
        **os.environ,
        "PYTHONPATH": str(BASE_DIR),
        "DEBUG": "True" if server == "runserver" else "False",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def session_cookies(user, clients):
    """A logged-in session for each client, as Django's test client makes one (no login form)."""
    cookies = []
    for _ in range(clients):
        client = Client()
        client.force_login(user)
        cookies.append({settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value})
    return cookies


class Load:
    """Clients asking for the pages in turn until ``stop`` is set; every answer's time kept."""

    def __init__(self, base, cookies, pages):
        self.base, self.cookies, self.pages = base, cookies, pages
        self.times = defaultdict(list)
        self.failures = defaultdict(int)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def client(self, number):
        session = requests.Session()
        session.cookies.update(self.cookies[number])
        turn = number
        while not self.stop.is_set():
            name, url = self.pages[turn % len(self.pages)]
            turn += 1
            url = url()
            if url is None:
                time.sleep(0.05)
                continue
            began = time.perf_counter()
            try:
                ok = session.get(self.base + url, timeout=120, allow_redirects=False).status_code == 200
            except requests.RequestException:
                ok = False
            took = time.perf_counter() - began
            with self.lock:
                if ok:
                    self.times[name].append(took)
                else:
                    self.failures[name] += 1

    def run(self, seconds, clients):
        threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        self.stop.set()
        for thread in threads:
            thread.join()
        return time.perf_counter() - began


def keep_5c_running(stop, finished):
    """Start a 5c run, wait for it, start another, until ``stop``; the finished ones in ``finished``."""
    while not stop.is_set():
        run = wait_for_outcome(start_run(Option.CHORD_OF_CHUNKS, started_from=BENCHMARK), timeout=600)
        if run is None or run.status != RollRun.Status.FINISHED:
            raise SystemExit(f"a 5c run did not finish: {run}")
        finished.append(run)


def percentile(times, share):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(server, pages, cookies, clients, seconds):
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="pages-under-load-")) / f"{server}.log"
    ready = "Quit the server with" if server == "runserver" else "Booting worker"
    with running(server_command(server, port), log, env=server_env(server), cwd=BASE_DIR, ready=ready):
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base, cookies[0]), timeout=60, message=f"{server} did not answer")
        load = Load(base, cookies, pages)
        finished = []
        runs = threading.Thread(target=keep_5c_running, args=(load.stop, finished), daemon=True)
        runs.start()
        wait_until(active_run, timeout=30, message="no 5c run started")
        elapsed = load.run(seconds, clients)
        runs.join()
    print(f"\n{server}: {clients} clients for {elapsed:.0f} s, during {len(finished)} 5c runs")
    print(f"  {'page':<14} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'failed':>6}")
    every = []
    for name, _ in pages:
        times = load.times[name]
        every += times
        print(
            f"  {name:<14} {len(times):8d} {len(times) / elapsed:7.1f} "
            f"{1000 * statistics.median(times):7.0f} {1000 * percentile(times, 0.95):7.0f} "
            f"{load.failures[name]:6d}"
        )
    failed = sum(load.failures.values())
    print(
        f"  {'all':<14} {len(every):8d} {len(every) / elapsed:7.1f} "
        f"{1000 * statistics.median(every):7.0f} {1000 * percentile(every, 0.95):7.0f} {failed:6d}"
    )


def _answers(base, cookie):
    try:
        return requests.get(f"{base}/admin/", cookies=cookie, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def page_costs(pages, user):
    """Each page's queries and milliseconds, rendered alone in this process."""
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    costs = []
    for name, url in pages:
        url = url()
        if url is None:
            continue
        client.get(url)  # templates compiled
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            took = time.perf_counter() - began
        assert response.status_code == 200, (url, response.status_code)
        costs.append(f"{name} {len(queries)} queries {1000 * took:.0f} ms")
    return ", ".join(costs)


def main(servers, clients, seconds, voters, reports):
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per session made
    call_command("migrate", verbosity=0)
    if Voter.objects.count() != voters:
        began = time.perf_counter()
        centers = replace_voter_data(voters)
        print(f"data: {voters:,} fake voters in {centers:,} centers in {time.perf_counter() - began:.1f} s")
    add_reports(reports)
    user, _ = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"is_superuser": True, "is_staff": True}
    )
    report = ReportChord.objects.filter(created_from=BENCHMARK).order_by("pk")[reports // 4]

    def run_page():
        run = active_run() or RollRun.objects.order_by("-pk").first()
        return f"/admin/voterroll/rollrun/{run.pk}/change/" if run else None

    pages = [
        ("report list", lambda: "/admin/reports/reportchord/"),
        ("report page", lambda: f"/admin/reports/reportchord/{report.pk}/change/"),
        ("run list", lambda: "/admin/voterroll/rollrun/"),
        ("run page", run_page),
    ]
    held = ReportChord.objects.count() + ReportGroup.objects.count()
    broker = settings.CELERY_BROKER_URL.split(":")[0]
    voters = Voter.objects.count()
    print(f"stack: {connection.vendor} database, {broker} broker; {voters:,} voters, {held:,} reports")
    try:
        configuration = {"DJANGO_CONFIGURATION": os.environ["DJANGO_CONFIGURATION"], "DEBUG": "False"}
        with running_worker("load-benchmark-worker", "--concurrency=2", "--purge", env=configuration):
            run = start_run(Option.CHORD_OF_CHUNKS, started_from=BENCHMARK)
            wait_until(lambda: RollRun.objects.running().filter(pk=run.pk).exists(), timeout=30)
            time.sleep(0.5)
            print(f"alone, while a 5c run goes: {page_costs(pages, user)}")
            run = wait_for_outcome(run, timeout=600)
            took = (run.finished_dt - run.queued_dt).total_seconds()
            print(f"alone, after it:            {page_costs(pages, user)}")
            print(f"that 5c run: {took:.1f} s, {run.stations:,} stations, {run.pages:,} pages")
            for server in servers:
                measure(server, pages, session_cookies(user, clients), clients, seconds)
    finally:
        ReportChord.objects.filter(created_from=BENCHMARK).delete()
        ReportGroup.objects.filter(created_from=BENCHMARK).delete()
        user.delete()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=["runserver", "gunicorn", "both", "none"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--voters", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=2000)
    arguments = parser.parse_args()
    servers = {"both": ["runserver", "gunicorn"], "none": []}.get(arguments.server, [arguments.server])
    main(servers, arguments.clients, arguments.seconds, arguments.voters, arguments.reports)
