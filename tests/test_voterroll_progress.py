"""A running run's progress is told from the results stored so far, with no write per task."""

import json
import re
import time
from io import StringIO

import pytest
from celery import states
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import ChordCounter, TaskResult

from tests.voterroll_utils import center_with_voters
from voterroll.fake_data import replace_voter_data
from voterroll.options import Option
from voterroll.progress import run_progress
from voterroll.runs import create_run, mark_running, record_sent
from voterroll.stations import assign_stations, stations_of
from voterroll.units import CenterRef, Plan, StationRef
from voterroll.writing import write_stations

pytestmark = pytest.mark.django_db


def tally(center, stations, pages, start):
    return {
        "kind": "batch",
        "lane": "host:1",
        "start": start,
        "end": start + 0.5,
        "center": center,
        "stations": stations,
        "pages": pages,
        "stations_listed": [],
    }


@pytest.fixture
def half_done_run():
    """A 5c run running, two of its four chunks' results stored (210 of 400 pages)."""
    center = center_with_voters(3)
    run = mark_running(create_run(Option.CHORD_OF_CHUNKS).pk, "task-1")
    header = [f"chunk-{n}" for n in range(4)]
    ChordCounter.objects.create(
        group_id="chunks-group", sub_tasks=json.dumps([[[task, None], None] for task in header]), count=4
    )
    record_sent(run.pk, 6, Plan("chunks-group", stations=40, pages=400))
    now = time.time()
    for task, pages in zip(header[:2], (100, 110), strict=False):  # two of four chunks done
        TaskResult.objects.create(
            task_id=task,
            status=states.SUCCESS,
            content_type="application/json",
            content_encoding="utf-8",
            result=json.dumps([tally(center.pk, 10, pages, now - 1)]),
        )
    TaskResult.objects.create(task_id=header[2], status=states.STARTED, result="null")
    run.refresh_from_db()
    return run


def test_progress_counts_the_stored_results_of_the_runs_chord_header(half_done_run):
    run = half_done_run

    with CaptureQueriesContext(connection) as queries:
        progress = run_progress(run)

    assert len(queries) == 2  # the counter, then the results: however many tasks have finished
    assert (progress.units_done, progress.units, progress.stations, progress.pages) == (2, 4, 20, 210)
    assert progress.share == pytest.approx(210 / 400)
    assert progress.remaining > 0 and len(progress.timeline["bars"]) == 2
    assert "2 of 4 tasks · 20 of 40 stations · 210 of 400 pages" in progress.summary()


def test_the_run_list_says_how_far_a_running_run_has_got(admin_client, half_done_run):
    page = admin_client.get("/admin/voterroll/rollrun/").content.decode()

    assert "Running · 52%" in page


def test_a_one_task_option_says_plainly_it_cannot_show_progress():
    center_with_voters(3)
    run = mark_running(create_run(Option.ALL_IN_ONE).pk, "task-1")
    record_sent(run.pk, 1, Plan("", stations=1, pages=2))
    run.refresh_from_db()

    progress = run_progress(run)

    assert progress.units is None and "cannot show progress without writing it" in progress.summary()


def test_progress_adds_no_database_write_per_task(admin_client, settings, tmp_path):
    """The statements a unit runs are the same whether or not anyone watches the run's page,
    and none but the run's throttled sign of life writes to the run."""
    settings.MEDIA_ROOT = tmp_path
    center = center_with_voters(1200)
    run = mark_running(create_run(Option.CHORD_OF_CHUNKS).pk, "task-1")
    assign_stations()
    refs = [StationRef(CenterRef.of(center), station.station) for station in stations_of()]

    def unit_statements(station):
        with CaptureQueriesContext(connection) as queries:
            write_stations(run.pk, [station])
        return [query["sql"].split()[0] for query in queries.captured_queries]

    unit_statements(refs[0])  # the first sign of life; then at most one each PROGRESS_EVERY seconds
    unwatched = unit_statements(refs[1])
    assert admin_client.get(f"/admin/voterroll/rollrun/{run.pk}/change/").status_code == 200
    watched = unit_statements(refs[2])

    assert watched == unwatched == ["SELECT"]  # its voters: nothing written to the database


def test_queue_task_wait_prints_progress_lines_when_not_on_a_terminal(worker, monkeypatch):
    replace_voter_data(3000, seed=1)
    monkeypatch.setattr("voterroll.management.commands.queue_task.LINE_EVERY", 0.0)
    output = StringIO()

    call_command("queue_task", "5c", "--wait", "60", stdout=output)

    lines = output.getvalue().splitlines()
    assert lines[0].startswith("Queued Run") and "finished" in lines[-1]
    progress = [line for line in lines[1:-1] if line.startswith("Run ")]
    assert progress and "\r" not in output.getvalue()
    assert all(re.search(r"(queued, waiting for a worker|\d+ s)", line) for line in progress), progress
