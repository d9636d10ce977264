"""The work itself, one unit at a time: what every option's tasks call."""
import logging

from .models import PollingCenter
from .pdf import write_station_pdf
from .stations import assign_stations, station_voters, stations_of

logger = logging.getLogger(__name__)


def print_station(run, center_pk, station):
    """Write one station's PDF into the run's folder; return its tally."""
    center = PollingCenter.objects.get(pk=center_pk)
    voters = station_voters(center_pk, station)
    if not voters:
        raise LookupError(f"Center {center.center_id} has no station {station}")
    path = run.output_path / f"center_{center.center_id}_{station}.pdf"
    pages = write_station_pdf(path, center.center_id, center.center_name, station, voters)
    logger.info(
        "Run %s: center %s station %s: %d voters, %d pages",
        run.pk, center.center_id, station, len(voters), pages,
    )  # fmt: skip
    return {"center": center_pk, "stations": 1, "pages": pages}


def assign_center_stations(run, center_pk):
    """Re-assign one center's stations; return how many voters it has."""
    voters = assign_stations([center_pk])
    logger.info(
        "Run %s: center %s: %d voters assigned to stations", run.pk, center_label(center_pk), voters
    )
    return voters


def print_center(run, center_pk):
    """Assign one center's stations and write all its PDFs; return its tally."""
    assign_center_stations(run, center_pk)
    stations = [station for _, station in stations_of([center_pk])]
    pages = sum(print_station(run, center_pk, station)["pages"] for station in stations)
    logger.info(
        "Run %s: center %s done: %d stations, %d pages",
        run.pk, center_label(center_pk), len(stations), pages,
    )  # fmt: skip
    return {"center": center_pk, "stations": len(stations), "pages": pages}


def center_label(center_pk):
    """The center id people know a center by (its id on the PDFs), for log lines."""
    return PollingCenter.objects.values_list("center_id", flat=True).get(pk=center_pk)
