"""Pages per second of the station PDF writer: a Latin roll beside an Arabic one, and a bare
canvas doing the least per page.

    .venv/bin/python benchmarks/voterroll_pdf.py [STATIONS]

Writes STATIONS (default 100) full stations of 500 voters (a cover and 13 pages each) on one
core, in memory, for each of en_US and ar_AA, with new Faker names for every station (as a
real run has: shaping caches words, and nearly every full name is new). The two alternate
station by station so that the machine's noise falls on both alike. Twice: first as a fresh
worker process meets them (each of ar_AA's thousand words shaped when first seen), then again
once every word is in the shaping cache, as in a long run.
"""

import random
import sys
import time
from datetime import UTC, datetime

from django_setup import setup_django

setup_django()

from reportlab.pdfgen import canvas  # noqa: E402

from voterroll.fake_data import Names  # noqa: E402
from voterroll.pdf import roll_pages, roll_pdf  # noqa: E402

VOTERS_PER_STATION = 500
NOW = datetime.now(UTC)


def station_voters(names, rng):
    """A station of women then men, each in name order, as stations by gender list them."""
    voters = []
    for gender in ("M", "F"):
        firsts, first_weights = names.first[gender]
        lasts, last_weights = names.last[gender]
        count = VOTERS_PER_STATION // 2
        drawn = zip(
            rng.choices(firsts, first_weights, k=count),
            rng.choices(lasts, last_weights, k=count),
            strict=True,
        )
        voters += sorted((rng.randrange(10**11, 10**12), f"{first} {last}", gender) for first, last in drawn)
    return voters


def bare_canvas_pages_per_second(voters, pages):
    """The plain way to draw such pages: a drawString per cell, Helvetica, defaults."""
    start = time.perf_counter()
    pdf = canvas.Canvas(None)
    for page in range(pages):
        rows = voters[(page * 40) % len(voters) :][:40]
        pdf.drawString(40, 800, f"Benchmark School, center 1, station {page}")
        for row, (voter_id, name, _) in enumerate(rows):
            y = 770 - row * 17
            pdf.drawString(40, y, str(row + 1))
            pdf.drawString(80, y, str(voter_id))
            pdf.drawString(170, y, name.encode("latin-1", "replace").decode("latin-1"))
            pdf.line(380, y - 3, 560, y - 3)
        pdf.drawString(280, 20, f"Page {page + 1} of {pages}")
        pdf.showPage()
    pdf.getpdfdata()
    return pages / (time.perf_counter() - start)


def main(stations):
    rng = random.Random(0)
    rolls = {
        "Latin (en_US)": ("Al-Nour Primary School", Names("en_US")),
        "Arabic (ar_AA)": ("مدرسة الفاتح", Names("ar_AA")),
    }
    work = {
        label: [station_voters(names, rng) for _ in range(stations)] for label, (_, names) in rolls.items()
    }
    roll_pdf(1, "Warm-up", 1, work["Latin (en_US)"][0], NOW)  # the font, parsed once per process
    pages = stations * roll_pages(VOTERS_PER_STATION)
    each = roll_pages(VOTERS_PER_STATION)
    print(f"stations: {stations} x {VOTERS_PER_STATION} voters, {each} pages each, one core")
    for cached in (False, True):
        seconds = dict.fromkeys(rolls, 0.0)
        sizes = dict.fromkeys(rolls, 0)
        for n in range(stations):
            for label, (center_name, _) in rolls.items():
                start = time.perf_counter()
                data, _ = roll_pdf(12345, center_name, n + 1, work[label][n], NOW)
                seconds[label] += time.perf_counter() - start
                sizes[label] += len(data)
        rates = {label: pages / spent for label, spent in seconds.items()}
        print(
            "\nthe same stations again, every word shaped already:"
            if cached
            else "\nnew words shaped on the way:"
        )
        for label in rolls:
            print(
                f"{label:15} {rates[label]:6.0f} pages/s, {stations / seconds[label]:5.1f} stations/s, "
                f"{sizes[label] / stations / 1024:3.0f} KiB per station"
            )
        latin, arabic = rates.values()
        print(f"Arabic / Latin: {arabic / latin:.0%}")
    bare = bare_canvas_pages_per_second(work["Latin (en_US)"][0], pages)
    print(f"\nbare canvas:    {bare:6.0f} pages/s (Latin rows, a drawString per cell, Helvetica, no cover)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
