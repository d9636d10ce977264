"""The work itself, one unit at a time: what every option's tasks call.

They take the run's id (for log lines), its folder and the center itself: a task that has
them already does not load the run or the center again.
"""
import logging

from .pdf import write_station_pdf
from .stations import assign_stations, station_voters, stations_of

logger = logging.getLogger(__name__)


def print_station(run_id, folder, center, station):
    """Write one station's PDF of ``center`` into ``folder``; return its tally."""
    voters = station_voters(center.pk, station)
    if not voters:
        raise LookupError(f"Center {center.center_id} has no station {station}")
    path = folder / f"center_{center.center_id}_{station}.pdf"
    pages = write_station_pdf(path, center.center_id, center.center_name, station, voters)
    logger.info(
        "Run %s: center %s station %s: %d voters, %d pages",
        run_id, center.center_id, station, len(voters), pages,
    )  # fmt: skip
    return {"center": center.pk, "stations": 1, "pages": pages}


def assign_center_stations(run_id, center):
    """Re-assign one center's stations; return how many voters it has."""
    voters = assign_stations([center.pk])
    logger.info("Run %s: center %s: %d voters assigned to stations", run_id, center.center_id, voters)
    return voters


def print_center(run_id, folder, center):
    """Assign one center's stations and write all its PDFs into ``folder``; return its tally."""
    assign_center_stations(run_id, center)
    stations = [station for _, station in stations_of([center.pk])]
    pages = sum(print_station(run_id, folder, center, station)["pages"] for station in stations)
    logger.info(
        "Run %s: center %s done: %d stations, %d pages",
        run_id, center.center_id, len(stations), pages,
    )  # fmt: skip
    return {"center": center.pk, "stations": len(stations), "pages": pages}
