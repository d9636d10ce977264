"""Data, waiting and reading helpers for the voterroll tests."""

import io
import re

import pypdf
from django.db.models import Max

from voterroll import files, runs
from voterroll.models import PollingCenter, StationAssignment, Voter, VoterRegistration

# A register file's header, as export_voters writes it.
HEADER = "voter_number,name,gender,center_number,center_name\n"


def center_with_voters(voters, number=1, first_pk=1, gender="F"):
    """One center with ``voters`` voters of one ``gender``, named so that name order is known:
    'Voter 00001', ..."""
    center = PollingCenter.objects.create(number=number, name=f"Center {number} School")
    Voter.objects.bulk_create(
        Voter(id=first_pk + n, number=10**11 + first_pk + n, name=f"Voter {first_pk + n:05d}", gender=gender)
        for n in range(voters)
    )
    VoterRegistration.objects.bulk_create(
        VoterRegistration(voter_id=first_pk + n, center=center) for n in range(voters)
    )
    return center


def station_sizes(center):
    """Voters per station of ``center``, by station number."""
    counts = {}
    for station in StationAssignment.objects.filter(center=center).values_list("station", flat=True):
        counts[station] = counts.get(station, 0) + 1
    return [counts[station] for station in sorted(counts)]


def stations_snapshot():
    """Every assignment as (voter number, center number, station): compare runs with it."""
    assignments = StationAssignment.objects.values_list("voter__number", "center__number", "station")
    return sorted(assignments)


def last_station(center):
    return StationAssignment.objects.filter(center=center).aggregate(last=Max("station"))["last"]


def wait_for_outcome(run, timeout=60):
    """Wait until ``run`` is finished or failed; return it fresh from the database."""
    ended = runs.wait_for_outcome(run, timeout)
    assert ended is not None, f"{run} recorded no outcome (waited {timeout} s)"
    return ended


def roll_names(run):
    """The file names of ``run``'s rolls, as the admin lists them."""
    return [name.rsplit("/", 1)[1] for name in run.rolls()]


def read_roll(name):
    """A roll as pypdf reads it, from storage (the file system or S3, whichever the tests use)."""
    return pypdf.PdfReader(io.BytesIO(files.read(name)))


def printed_numbers(run):
    """The voter numbers each of ``run``'s rolls lists (after its cover), in printed order, by
    file name."""
    return {
        name.rsplit("/", 1)[1]: [
            int(token)
            for page in read_roll(name).pages[1:]
            for token in re.findall(r"\b\d{12}\b", page.extract_text())
        ]
        for name in run.rolls()
    }


def voter_data():
    """Every voter as (number, name, gender, center number, center name), by number."""
    return sorted(
        Voter.objects.values_list(
            "number", "name", "gender", "registration__center__number", "registration__center__name"
        )
    )
