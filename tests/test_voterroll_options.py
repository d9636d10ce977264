"""The options on a real worker: same rolls from the good ones, the documented failures from
the others, an outcome on every run, center regeneration and one run at a time."""

import re
from collections import Counter

import pytest
from django.db import IntegrityError, transaction

from project.celery import app
from tests.utils import wait_until
from tests.voterroll_utils import (
    center_with_voters,
    printed_numbers,
    read_roll,
    roll_names,
    stations_snapshot,
    wait_for_outcome,
)
from voterroll.fake_data import replace_voter_data
from voterroll.models import PollingCenter, RollRun, StationAssignment, VoterRegistration
from voterroll.options import Option
from voterroll.runs import RunRefused, start_run
from voterroll.stations import batches_pay, station_chunks, stations_of
from voterroll.tasks import worker_processes

# Groups, chords and starmap on each broker: this module also runs in the Redis pass.
pytestmark = pytest.mark.broker

VOTERS = 2600  # three centers of uneven size, about seven stations


@pytest.fixture
def voters(worker):
    replace_voter_data(VOTERS, seed=1)


def test_good_options_print_the_same_stations_and_pages(voters):
    outcomes = {}
    for option in [
        Option.ALL_IN_ONE,
        Option.CHORD_BY_CENTER,
        Option.STARMAP,
        Option.CHORD_BY_STATION,
        Option.CHORD_OF_CHUNKS,
    ]:
        run = wait_for_outcome(start_run(option))
        outcomes[option] = (
            run.status,
            run.centers,
            run.stations,
            run.voters,
            run.pages,
            stations_snapshot(),
            roll_names(run),
        )

    assert len(set(map(repr, outcomes.values()))) == 1, outcomes
    status, centers, stations, voters, pages, snapshot, names = outcomes[Option.ALL_IN_ONE]
    assert (status, centers, voters) == ("finished", 3, VOTERS)
    assert stations == len(stations_of()) == len(names)
    assert len(snapshot) == VOTERS
    assert pages >= stations


def test_every_assigned_voter_is_in_exactly_one_pdf_once_and_in_order(voters):
    run = wait_for_outcome(start_run(Option.CHORD_BY_STATION))

    printed = printed_numbers(run)

    everyone = [number for numbers in printed.values() for number in numbers]
    assigned = StationAssignment.objects.values_list("voter__number", flat=True)
    assert sorted(everyone) == sorted(assigned)
    assert len(everyone) == len(set(everyone)) == VOTERS
    center = PollingCenter.objects.order_by("pk").first()
    in_name_order = list(
        StationAssignment.objects.filter(center=center, station=1)
        .order_by("voter__name", "voter__number")
        .values_list("voter__number", flat=True)
    )
    assert printed[f"center_{center.number}_1.pdf"] == in_name_order


def test_run_records_its_timing_counts_and_task_count(voters):
    run = wait_for_outcome(start_run(Option.CHORD_BY_STATION))

    stations = len(stations_of())
    assert run.status == "finished"
    assert run.queued_dt <= run.started_dt < run.finished_dt
    assert run.tasks == 1 + stations + 1  # orchestrator, one per station, the chord body
    assert run.error == ""
    assert sum(PollingCenter.objects.values_list("roll_pages", flat=True)) == run.pages
    assert not PollingCenter.objects.filter(rolls_written_dt__isnull=True).exists()


def test_each_option_draws_its_tasks_on_the_timeline_one_lane_per_process(voters):
    lanes, kinds = {}, {}
    for option in [Option.ALL_IN_ONE, Option.STARMAP, Option.CHORD_BY_STATION, Option.CHORD_OF_CHUNKS]:
        run = wait_for_outcome(start_run(option))
        bars = run.timeline["bars"]
        lanes[option] = {lane for lane, *_ in bars}
        kinds[option] = Counter(kind for _, kind, *_ in bars)
        assert all(0 <= start <= end for _, _, start, end in bars)
        assert len(run.timeline["lanes"]) == len(lanes[option])
        assert all(re.fullmatch(r".+:\d+", lane) for lane in run.timeline["lanes"])  # host:pid

    stations = len(stations_of())
    assert kinds[Option.ALL_IN_ONE] == {"orchestrator": 1}
    assert kinds[Option.STARMAP] == {"orchestrator": 1, "batch": 1, "callback": 1}
    assert kinds[Option.CHORD_BY_STATION] == {"orchestrator": 1, "station": stations, "callback": 1}
    # The tests' chunks are a hundredth of a second of writing: several of them.
    assert kinds[Option.CHORD_OF_CHUNKS]["batch"] > 1
    assert kinds[Option.CHORD_OF_CHUNKS]["assigner"] == 1
    assert (
        kinds[Option.CHORD_OF_CHUNKS]["batch"] + 3 == RollRun.objects.get(option=Option.CHORD_OF_CHUNKS).tasks
    )


def test_5c_writes_chunks_while_its_assigner_assigns_and_prints_what_5b_prints(worker):
    replace_voter_data(20_000, seed=1)  # twenty centers: several batches of the tests' tiny chunks
    reference = wait_for_outcome(start_run(Option.CHORD_BY_STATION))
    snapshot = stations_snapshot()

    run = wait_for_outcome(start_run(Option.CHORD_OF_CHUNKS))

    assert run.status == "finished"
    assert (run.centers, run.stations, run.voters, run.pages) == (
        reference.centers,
        reference.stations,
        20_000,
        reference.pages,
    )
    assert stations_snapshot() == snapshot  # each voter once (the voter is the key), as at once
    bars = run.timeline["bars"]
    kinds = Counter(kind for _, kind, *_ in bars)
    assert kinds["assigner"] == 1 and kinds["batch"] > 2
    assert run.tasks == 1 + 1 + kinds["batch"] + 1  # the option's task, the assigner, the chunks, the body
    (assigner_end,) = [end for _, kind, _, end in bars if kind == "assigner"]
    first_chunk = min(start for _, kind, start, _ in bars if kind == "batch")
    if batches_pay():  # SQLite: the first batch's chunks are written while the next is assigned
        assert first_chunk < assigner_end
    else:  # PostgreSQL: one batch, all of it cut into chunks at once
        assert kinds["batch"] == len(station_chunks(stations_of(), worker_processes()))


def test_5c_cuts_a_chunk_for_every_worker_process_even_when_its_pages_would_make_fewer(worker):
    """At 20,000 voters 5c made two chunks for a worker of four processes: two sat idle."""
    for number in range(1, 7):  # six stations of two pages each: one chunk's worth of writing
        center_with_voters(30, number=number, first_pk=number * 100)

    run = wait_for_outcome(start_run(Option.CHORD_OF_CHUNKS))

    assert worker_processes() == 4  # the tests' worker (conftest) runs four
    chunks = Counter(kind for _, kind, *_ in run.timeline["bars"])["batch"]
    assert (run.status, run.stations, chunks, run.tasks) == ("finished", 6, 4, 1 + 1 + 4 + 1)


def test_with_no_worker_on_the_queue_5c_counts_on_the_configured_concurrency(worker, monkeypatch, settings):
    monkeypatch.setitem(app.conf, "task_default_queue", "nobody-consumes-this")
    settings.CELERY_WORKER_CONCURRENCY = 3

    assert worker_processes() == 3


def test_join_inside_a_task_is_refused_and_the_run_fails_once_its_center_tasks_have_written(voters):
    run = wait_for_outcome(start_run(Option.JOIN))

    assert run.status == "failed"
    assert "Never call result.get() within a task!" in run.error
    assert run.pages == 0  # nothing summed the pages
    # The group was sent before the refused wait, and the run held its lock until it ended:
    # every station's roll is there by the time the run is recorded as failed.
    assert len(run.rolls()) == len(stations_of())
    assert run.tasks == 1 + PollingCenter.objects.count() + 1


def test_parallel_station_assignment_gets_the_same_result_with_more_tasks(voters):
    reference = wait_for_outcome(start_run(Option.CHORD_BY_STATION))
    snapshot = stations_snapshot()

    run = wait_for_outcome(start_run(Option.PARALLEL_ASSIGN))

    assert run.status == "finished"
    assert (run.stations, run.pages) == (reference.stations, reference.pages)
    assert stations_snapshot() == snapshot
    centers = PollingCenter.objects.count()
    assert run.tasks == 1 + centers + 1 + run.stations + 1 > reference.tasks


def test_failing_sub_task_fails_the_run_through_the_chord_error_callback(voters):
    run = wait_for_outcome(start_run(Option.ERROR))

    assert run.status == "failed"
    assert "LookupError" in run.error and "has no station" in run.error
    assert run.finished_dt is not None and run.pages == 0
    # The other sub-tasks printed their stations all the same.
    wait_until(lambda: len(run.rolls()) == len(stations_of()), message="sub-tasks did not print")


def test_renaming_a_center_in_the_admin_regenerates_only_its_rolls(voters, admin_client):
    first_run = wait_for_outcome(start_run(Option.CHORD_BY_STATION))
    center, other = PollingCenter.objects.order_by("pk")[:2]
    other_written_dt = other.rolls_written_dt

    response = admin_client.post(
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        {"number": center.number, "name": "Renamed Secondary School"},
    )

    assert response.status_code == 302
    run = wait_for_outcome(RollRun.objects.get(center=center))
    center.refresh_from_db()
    other.refresh_from_db()
    assert (run.status, run.option, run.centers) == ("finished", Option.CHORD_BY_STATION, 1)
    names = roll_names(run)
    assert names and all(name.startswith(f"center_{center.number}_") for name in names)
    assert "Renamed Secondary School" in read_roll(run.rolls()[0]).pages[0].extract_text()
    assert center.rolls_written_dt == run.finished_dt and center.roll_pages == run.pages
    assert other.rolls_written_dt == other_written_dt
    assert len(first_run.rolls()) == first_run.stations  # the earlier run's files stay


def test_while_a_run_is_active_other_runs_and_new_fake_data_are_refused(voters):
    active = RollRun.objects.create(option=Option.CHORD_BY_STATION, status=RollRun.Status.RUNNING)

    busy = rf"Run {active.pk} .* is still running \(queued .*\); one run at a time"
    with pytest.raises(RunRefused, match=busy):
        start_run(Option.ALL_IN_ONE)
    with pytest.raises(RunRefused):
        start_run(Option.CHORD_BY_STATION, center=PollingCenter.objects.first())
    with pytest.raises(RunRefused):
        replace_voter_data(10)

    assert RollRun.objects.count() == 1
    assert VoterRegistration.objects.count() == VOTERS
    RollRun.objects.filter(pk=active.pk).update(status=RollRun.Status.FINISHED)
    assert wait_for_outcome(start_run(Option.ALL_IN_ONE)).status == "finished"


def test_database_allows_only_one_active_run_even_past_the_check(db):
    RollRun.objects.create(option=Option.ALL_IN_ONE, status=RollRun.Status.RUNNING)

    with pytest.raises(IntegrityError), transaction.atomic():
        RollRun.objects.create(option=Option.CHORD_BY_STATION)

    RollRun.objects.create(option=Option.CHORD_BY_STATION, status=RollRun.Status.FAILED)
    assert RollRun.objects.count() == 2
