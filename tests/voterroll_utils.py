"""Data and waiting helpers for the voterroll tests."""
from django.db.models import Max

from tests.utils import wait_until
from voterroll.models import PollingCenter, RollRun, StationAssignment, Voter, VoterRegistration


def center_with_voters(voters, center_id=1, first_pk=1):
    """One center with ``voters`` voters named so that name order is known: 'Voter 00001', ..."""
    center = PollingCenter.objects.create(center_id=center_id, center_name=f"Center {center_id} School")
    Voter.objects.bulk_create(
        Voter(id=first_pk + n, voter_id=10**11 + first_pk + n, voter_name=f"Voter {first_pk + n:05d}")
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
    """Every assignment as (voter id, center id, station): compare runs with it."""
    assignments = StationAssignment.objects.values_list(
        "voter__voter_id", "center__center_id", "station"
    )
    return sorted(assignments)


def last_station(center):
    return StationAssignment.objects.filter(center=center).aggregate(last=Max("station"))["last"]


def wait_for_outcome(run, timeout=60):
    """Wait until ``run`` is finished or failed; return it fresh from the database."""
    return wait_until(
        lambda: RollRun.objects.filter(pk=run.pk, status__in=["finished", "failed"]).first(),
        timeout=timeout,
        message=f"{run} recorded no outcome",
    )
