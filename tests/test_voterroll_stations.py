"""Station assignment: balanced sizes, name order, set-based, per center or for all."""
import pytest
from django.test import override_settings

from tests.voterroll_utils import center_with_voters, station_sizes
from voterroll.models import StationAssignment, Voter, VoterRegistration
from voterroll.stations import assign_stations, station_voters, stations_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "voters, sizes",
    [
        (0, []),
        (1, [1]),
        (500, [500]),
        (501, [251, 250]),
        (1000, [500, 500]),
        (1001, [334, 334, 333]),
    ],
)
def test_stations_hold_at_most_500_voters_and_differ_by_at_most_one(voters, sizes):
    center = center_with_voters(voters)

    assigned = assign_stations()

    assert assigned == voters
    assert station_sizes(center) == sizes


def test_voters_fill_stations_in_name_order():
    center = center_with_voters(1001)

    assign_stations()

    names = [name for station in (1, 2, 3) for _, name in station_voters(center.pk, station)]
    assert names == [f"Voter {n:05d}" for n in range(1, 1002)]


@override_settings(VOTERROLL_STATION_SIZE=3)
def test_station_size_comes_from_the_setting():
    center = center_with_voters(10)

    assign_stations()

    assert sorted(station_sizes(center)) == [2, 2, 3, 3]


def test_assigning_one_center_leaves_the_others_alone():
    first = center_with_voters(600, center_id=1)
    second = center_with_voters(300, center_id=2, first_pk=1000)
    assign_stations()
    before = list(StationAssignment.objects.filter(center=second).values_list("pk", flat=True))
    Voter.objects.filter(registration__center=first).update(voter_name="Same Name")

    assert assign_stations([first.pk]) == 600

    assert list(StationAssignment.objects.filter(center=second).values_list("pk", flat=True)) == before
    assert stations_of() == [(first.pk, 1), (first.pk, 2), (second.pk, 1)]


def test_reassigning_replaces_assignments_instead_of_adding_to_them():
    center = center_with_voters(700)
    assign_stations()

    assign_stations()

    assert StationAssignment.objects.count() == 700
    assert station_sizes(center) == [350, 350]


def test_reassigning_a_center_takes_in_a_voter_who_moved_there_from_another_center():
    first = center_with_voters(600, center_id=1)
    second = center_with_voters(300, center_id=2, first_pk=1000)
    assign_stations()
    mover = Voter.objects.get(pk=1)
    VoterRegistration.objects.filter(voter=mover).update(center=second)

    assert assign_stations([second.pk]) == 301

    assert StationAssignment.objects.get(voter=mover).center == second
    assert StationAssignment.objects.filter(center=first).count() == 599
    assert StationAssignment.objects.count() == 900
