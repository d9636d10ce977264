"""Pages per second of the station writer (a roll, its cover and its sign), today's beside the
one it replaced, for a Latin roll and an Arabic one.

    .venv/bin/python benchmarks/voterroll_pdf.py [STATIONS]

Writes STATIONS (default 60) full stations of 500 voters (a cover and 13 pages each, and a
sign) in memory, for each of en_US and ar_AA, with new Faker names for every station (as a
real run has: nearly every full name is new). The writer before issue 20 is read from git
(commit BEFORE) into a module of its own, in a process of its own (reportlab lends a font
registered first to any later one of the same face: in one process, the two writers would
share one); today's writes in another. Both draw the same stations, station by station in
turn, so that the machine's noise falls on both alike, once unmeasured (fonts parsed, every
word shaped, as in a worker after a while), then measured in each process's CPU seconds, as
one pool process would spend them. Pages are the roll's (cover and list), as
VOTERROLL_PAGES_PER_SECOND counts them, the sign's time included.
"""

import functools
import multiprocessing
import os
import random
import subprocess
import sys
import time
import types
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEFORE = "00e6fb6"  # main before issue 20: the writer it set out to make faster
VOTERS_PER_STATION = 500
NOW = datetime.now(UTC)
ROLLS = {
    "Latin (en_US)": ("Al-Nour Primary School", "en_US"),
    "Arabic (ar_AA)": ("مدرسة الفاتح", "ar_AA"),
}


def writer_before():
    """voterroll/pdf.py as of BEFORE, as a module of the voterroll package (its relative
    imports resolve)."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:voterroll/pdf.py"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType("voterroll.pdf_before")
    module.__package__ = "voterroll"
    exec(compile(source, f"{BEFORE}:voterroll/pdf.py", "exec"), module.__dict__)
    return module


def station_voters(names, rng):
    """A station of men then women, each in name order, as stations by gender list them."""
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


def write_station(writer, center_name, station, voters):
    """What a worker writes for a station (voterroll.writing): its roll and its sign; bytes."""
    data, _ = writer.roll_pdf(12345, center_name, station, voters, NOW)
    gender = writer.station_gender(voter[2] for voter in voters)
    sign = writer.sign_pdf(12345, center_name, station, gender, voters[0][1], voters[-1][1])
    return len(data) + len(sign)


def writer_process(name, jobs, results):
    """Write each station sent on ``jobs`` with the writer ``name``; send back its CPU seconds
    and bytes. Only reportlab and voterroll.shaping are loaded: no Django, no other font. In
    a process group of its own; it ends when told, or after a minute without work."""
    os.setpgrp()
    sys.path.insert(0, str(REPO))
    if name == "before":
        writer = writer_before()
    else:
        from voterroll import pdf as writer
    for center_name, station, voters in iter(functools.partial(jobs.get, timeout=60), None):
        start = time.process_time()
        size = write_station(writer, center_name, station, voters)
        results.put((time.process_time() - start, size))


def main(stations):
    from django_setup import setup_django

    setup_django()
    from voterroll.fake_data import Names
    from voterroll.pdf import roll_pages

    rng = random.Random(0)
    work = {
        label: [station_voters(Names(locale), rng) for _ in range(stations)]
        for label, (_, locale) in ROLLS.items()
    }
    spawn = multiprocessing.get_context("spawn")
    writers = {}
    for name in ("before", "now"):
        jobs, results = spawn.Queue(), spawn.Queue()
        process = spawn.Process(target=writer_process, args=(name, jobs, results), daemon=True)
        process.start()
        writers[name] = (process, jobs, results)
    try:
        seconds = {(label, name): 0.0 for label in ROLLS for name in writers}
        sizes = dict.fromkeys(seconds, 0)
        for measured in (False, True):  # first every font parsed and every word shaped, as in a long run
            for n in range(stations):
                for label, (center_name, _) in ROLLS.items():
                    for name, (_, jobs, results) in writers.items():
                        jobs.put((center_name, n + 1, work[label][n]))
                        spent, size = results.get()
                        if measured:
                            seconds[label, name] += spent
                            sizes[label, name] += size
    finally:
        for process, jobs, _ in writers.values():
            jobs.put(None)
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    pages = stations * roll_pages(VOTERS_PER_STATION)
    rate = {key: pages / spent for key, spent in seconds.items()}
    print(
        f"stations: {stations} x {VOTERS_PER_STATION} voters, {roll_pages(VOTERS_PER_STATION)} roll pages "
        "and a sign each; roll pages per CPU second of one process"
    )
    print(f"{'':15} {'before':>8} {'now':>8} {'now/before':>10}   KiB per station before/now")
    for label in ROLLS:
        before, now = rate[label, "before"], rate[label, "now"]
        kib = "/".join(f"{sizes[label, name] / stations / 1024:.0f}" for name in writers)
        print(f"{label:15} {before:8.0f} {now:8.0f} {now / before:9.2f}x   {kib}")
    for name in writers:
        print(f"Arabic / Latin, {name}: {rate['Arabic (ar_AA)', name] / rate['Latin (en_US)', name]:.0%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
