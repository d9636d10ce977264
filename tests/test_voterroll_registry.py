"""The options: one registry, a task for each, documented, counted by what sends them, drawn whatever
their kinds, and chunks of the right size."""

import re

from celery import chain, group, signature

from project.celery import app
from tests.utils import BASE_DIR
from voterroll import pdf
from voterroll.models import RollRun
from voterroll.options import Option
from voterroll.stations import station_chunks
from voterroll.tasks import canvas_size, write_station_roll
from voterroll.timeline import render_timeline


def test_every_option_has_its_task_and_a_row_in_the_readme_table():
    app.loader.import_default_modules()  # as a worker does at start-up
    readme = (BASE_DIR / "README.md").read_text()

    for option in Option:
        assert option.task_name in app.tasks, option
        assert re.search(rf"^\| `{re.escape(option.alias)}` {option.value} \|", readme, re.MULTILINE), option
        assert Option.from_alias(option.alias.upper()) == Option.from_alias(f" {option.value} ") == option
    assert len({option.alias for option in Option}) == len(Option)
    # The start form shows each option with what it does and teaches.
    assert all(option.does and option.teaches for option in Option)


def test_chunks_are_about_the_target_seconds_of_writing_and_equal_in_pages(settings):
    settings.VOTERROLL_PAGES_PER_SECOND = 1000
    settings.VOTERROLL_CHUNK_SECONDS = 1.0
    # A big center's full stations (a cover and 13 pages) first, then small ones' (a cover and one).
    stations = [(1, n, 500) for n in range(1, 101)] + [(center, 1, 40) for center in range(2, 302)]

    cut = station_chunks(stations)

    assert [station for chunk in cut for station in chunk] == stations  # in order, each once
    pages = [sum(pdf.roll_pages(voters) for *_, voters in chunk) for chunk in cut]
    assert sum(pages) == 2000 and len(cut) == 2  # two seconds of writing, two chunks
    assert all(abs(chunk - 1000) <= 14 for chunk in pages)  # equal within a station, not 50 stations each
    settings.VOTERROLL_CHUNK_SECONDS = 60.0
    assert station_chunks(stations) == [stations]


def test_the_sending_helper_counts_every_task_a_canvas_runs_on_success():
    station = signature("voterroll.tasks.write_station_roll")
    body = signature("voterroll.tasks.sum_pages").on_error(signature("voterroll.tasks.record_failure"))

    assert canvas_size(station) == 1
    assert canvas_size(group([station] * 3) | body) == 4  # the error callback only runs on failure
    assert canvas_size(write_station_roll.starmap([(1,)] * 9) | body) == 2
    assert canvas_size(chain(station, group([station] * 2), body)) == 4


def test_a_timeline_kind_this_code_does_not_know_is_drawn_not_refused():
    run = RollRun(
        option=Option.ALL_IN_ONE, timeline={"lanes": ["h:1"], "bars": [[0, "from_a_newer_version", 0, 5]]}
    )

    svg = render_timeline(run)

    assert 'class="bar other"' in svg and "other task" in svg


def test_chunks_are_at_least_as_many_as_the_worker_processes_as_far_as_stations_go(settings):
    settings.VOTERROLL_PAGES_PER_SECOND = 1000
    settings.VOTERROLL_CHUNK_SECONDS = 1.0
    stations = [(center, 1, 400) for center in range(1, 21)]  # 220 pages: one chunk's worth

    assert len(station_chunks(stations)) == 1
    assert [len(chunk) for chunk in station_chunks(stations, processes=4)] == [5, 5, 5, 5]
    assert len(station_chunks(stations, processes=32)) == 20  # a station is never cut
    assert len(station_chunks(stations * 10, processes=2)) == 3  # 2,200 pages: the seconds decide
