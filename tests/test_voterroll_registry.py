"""The options: one registry, a task for each, documented, and chunks of the right size."""

import re

from project.celery import app
from tests.utils import BASE_DIR
from voterroll import pdf
from voterroll.models import Option
from voterroll.stations import station_chunks


def test_every_option_has_its_task_and_a_row_in_the_readme_table():
    app.loader.import_default_modules()  # as a worker does at start-up
    readme = (BASE_DIR / "README.md").read_text()

    for option in Option:
        assert option.task_name in app.tasks, option
        assert re.search(rf"^\| `{re.escape(option.alias)}` {option.value} \|", readme, re.MULTILINE), option
        assert Option.from_alias(option.alias.upper()) == Option.from_alias(f" {option.value} ") == option
    assert len({option.alias for option in Option}) == len(Option)


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
