"""The work itself, one unit at a time: what every option's tasks call.

A unit takes the run's id (to check that the run still runs, and for log lines) and the
centers or stations it writes, as references that carry the center's number and name
(voterroll.units), so that it loads neither the run nor the center again. Each returns a
tally of what it did and when, in which process, for the run's totals and its timeline.
"""

import logging
import os
import socket
import time

from django.utils import timezone

from . import files, record, runs
from .pdf import roll_pdf, sign_pdf, station_gender
from .stations import assign_stations, roll_rows, stations_of
from .units import Bar, CenterRef, ListedStation, StationRef, Tally

logger = logging.getLogger(__name__)

LANE = f"{socket.gethostname()}:{{pid}}"


def bar(kind: str, started: float) -> Bar:
    """A bar of the run's timeline: a ``kind`` of work from ``started`` until now, in this process."""
    return Bar(kind=kind, lane=LANE.format(pid=os.getpid()), start=started, end=time.time())


def tally(
    kind: str, center: CenterRef, stations: int, pages: int, started: float, listed: list[ListedStation]
) -> Tally:
    """What a unit did, and its bar."""
    return Tally(
        **bar(kind, started), center=center.pk, stations=stations, pages=pages, stations_listed=listed
    )


def write_stations(run_id: int, stations: list[StationRef]) -> list[Tally | None]:
    """Write the roll and sign of each of ``stations`` into the run's folder, their voters read
    in one statement; return a tally for each.

    Nones, and nothing written, when the run is no longer running.
    """
    started = time.time()
    rows = roll_rows(run_id, [(center.pk, station) for center, station in stations])
    if not rows and not runs.is_running(run_id):
        logger.warning("Run %s is no longer running: %d station(s) not written", run_id, len(stations))
        return [None] * len(stations)
    tallies = []
    for center, station in stations:
        if (center.pk, station) not in rows:
            raise LookupError(f"Center {center.number} has no station {station}")
        folder, voters = rows[center.pk, station]
        tallies.append(write_station_files(run_id, folder, center, station, voters, started))
        started = time.time()
    return tallies


def write_station(run_id: int, station: StationRef) -> Tally | None:
    """Write one station's roll and sign (see write_stations); its tally, or None."""
    return write_stations(run_id, [station])[0]


def write_station_files(
    run_id: int, folder: str, center: CenterRef, station: int, voters: list, started: float
) -> Tally:
    """Draw and store one station's roll and sign; its tally."""
    gender = station_gender(voter[2] for voter in voters)
    (first_number, first_name, _), (last_number, last_name, _) = voters[0], voters[-1]
    data, pages = roll_pdf(center.number, center.name, station, voters, timezone.now())
    sign = sign_pdf(center.number, center.name, station, gender, first_name, last_name)
    written = [
        record.store(files.roll_name(folder, center.number, station), data, pages),
        record.store(files.sign_name(folder, center.number, station), sign, 1),
    ]
    runs.note_progress(run_id)
    logger.info(
        "Run %s: center %s station %s: %d voters, %d pages",
        run_id,
        center.number,
        station,
        len(voters),
        pages,
    )
    listed = ListedStation(
        center=(center.number, center.name),
        station=station,
        gender=gender,
        voters=len(voters),
        first=(first_number, first_name),
        last=(last_number, last_name),
        files=written,
    )
    return tally("station", center, 1, pages, started, [listed])


def assign_center(run_id: int, center: CenterRef) -> Tally:
    """Re-assign one center's stations; return its tally (no pages)."""
    started = time.time()
    voters = assign_stations([center.pk])
    logger.info("Run %s: center %s: %d voters assigned to stations", run_id, center.number, voters)
    return tally("assign", center, 0, 0, started, [])


def write_center(run_id: int, center: CenterRef) -> Tally | None:
    """Assign one center's stations and write all its rolls; return its tally (None: run ended)."""
    started = time.time()
    if not runs.is_running(run_id):
        logger.warning("Run %s is no longer running: center %s not written", run_id, center.number)
        return None
    assign_stations([center.pk])
    stations = [StationRef(center, station.station) for station in stations_of([center.pk])]
    tallies = write_stations(run_id, stations)
    if None in tallies:
        return None
    pages = sum(tally["pages"] for tally in tallies)
    logger.info(
        "Run %s: center %s done: %d stations, %d pages",
        run_id,
        center.number,
        len(stations),
        pages,
    )
    listed = [station for tally in tallies for station in tally["stations_listed"]]
    return tally("center", center, len(stations), pages, started, listed)
