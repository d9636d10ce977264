"""Station assignment: balanced sizes, name order, set-based, per center or for all, at once or
in batches; and planned from counts alone."""

import itertools

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.voterroll_utils import center_with_voters, station_sizes, stations_snapshot
from voterroll.models import PollingCenter, StationAssignment, Voter, VoterRegistration
from voterroll.stations import (
    assign_batch,
    assign_stations,
    assignment_batches,
    planned_stations,
    station_voters,
    stations_of,
)
from voterroll.units import Station

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("voters", "sizes"),
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

    names = [name for station in (1, 2, 3) for _, name, _ in station_voters(center.pk, station)]
    assert names == [f"Voter {n:05d}" for n in range(1, 1002)]


@override_settings(VOTERROLL_STATION_SIZE=3)
def test_station_size_comes_from_the_setting():
    center = center_with_voters(10)

    assign_stations()

    assert sorted(station_sizes(center)) == [2, 2, 3, 3]


def test_assigning_one_center_leaves_the_others_alone():
    first = center_with_voters(600, number=1)
    second = center_with_voters(300, number=2, first_pk=1000)
    assign_stations()
    before = list(StationAssignment.objects.filter(center=second).values_list("pk", flat=True))
    Voter.objects.filter(registration__center=first).update(name="Same Name")

    assert assign_stations([first.pk]) == 600

    assert list(StationAssignment.objects.filter(center=second).values_list("pk", flat=True)) == before
    assert stations_of() == [(first.pk, 1, 300), (first.pk, 2, 300), (second.pk, 1, 300)]


def test_reassigning_replaces_assignments_instead_of_adding_to_them():
    center = center_with_voters(700)
    assign_stations()

    assign_stations()

    assert StationAssignment.objects.count() == 700
    assert station_sizes(center) == [350, 350]


def test_reassigning_a_center_takes_in_a_voter_who_moved_there_from_another_center():
    first = center_with_voters(600, number=1)
    second = center_with_voters(300, number=2, first_pk=1000)
    assign_stations()
    mover = Voter.objects.get(pk=1)
    VoterRegistration.objects.filter(voter=mover).update(center=second)

    assert assign_stations([second.pk]) == 301

    assert StationAssignment.objects.get(voter=mover).center == second
    assert StationAssignment.objects.filter(center=first).count() == 599
    assert StationAssignment.objects.count() == 900


def center_of_women_and_men(women, men, number=1):
    """One center with ``women`` women then ``men`` men, names interleaved across genders."""
    center = center_with_voters(women, number=number, gender="F")
    center_with_voters(men, number=number + 1, first_pk=women + 1, gender="M")
    VoterRegistration.objects.filter(voter_id__gt=women).update(center=center)
    return center


def station_genders(center):
    """Per station, in order: (its genders as printed, in order and without repeats, its size)."""
    stations = []
    for _, station, size in stations_of([center.pk]):
        printed = [gender for _, _, gender in station_voters(center.pk, station)]
        stations.append(("".join(dict.fromkeys(printed)), size))
    return stations


def test_women_and_men_vote_at_separate_balanced_stations_men_numbered_first():
    center = center_of_women_and_men(women=600, men=700)

    assign_stations()

    assert station_genders(center) == [("M", 350), ("M", 350), ("F", 300), ("F", 300)]


@pytest.mark.parametrize(("women", "men"), [(24, 600), (600, 24), (3, 1001)])
def test_a_gender_below_the_threshold_joins_one_mixed_station_men_listed_first(women, men):
    center = center_of_women_and_men(women, men)

    assign_stations()

    stations = station_genders(center)
    mixed = [genders for genders, _ in stations if len(genders) > 1]
    assert mixed == ["MF"]  # one, the men's names first
    sizes = [size for _, size in stations]
    assert sum(sizes) == women + men and max(sizes) <= 500 and max(sizes) - min(sizes) <= 1


def test_at_the_threshold_a_gender_has_its_own_station():
    center = center_of_women_and_men(women=25, men=100)

    assign_stations()

    assert station_genders(center) == [("M", 100), ("F", 25)]


@override_settings(VOTERROLL_STATIONS_BY_GENDER=False)
def test_with_stations_by_gender_off_voters_mix_in_name_order():
    center = center_of_women_and_men(women=300, men=300)

    assign_stations()

    assert [size for _, size in station_genders(center)] == [300, 300]
    names = [name for station in (1, 2) for _, name, _ in station_voters(center.pk, station)]
    assert names == sorted(names)


def test_gendered_stations_take_one_statement():
    center_of_women_and_men(women=100, men=100)

    with CaptureQueriesContext(connection) as queries:
        assign_stations()

    inserts = [
        query["sql"] for query in queries.captured_queries if query["sql"].lstrip().startswith("INSERT")
    ]
    assert len(inserts) == 1 and "voterroll_stationassignment" in inserts[0]


def centers_of_women_and_men(counts):
    """A center for each (women, men) of ``counts``, names interleaved across genders."""
    first_pk = 1
    for number, (women, men) in enumerate(counts, start=1):
        center = center_with_voters(women, number=number, first_pk=first_pk, gender="F")
        if men:
            center_with_voters(men, number=1000 + number, first_pk=first_pk + women, gender="M")
            VoterRegistration.objects.filter(voter_id__gte=first_pk + women).update(center=center)
            PollingCenter.objects.filter(number=1000 + number).delete()
        first_pk += women + men


# Each gender below, at and above the threshold (25), alone, and in stations full, one over
# full, and of many; with a small station size, every kind of split happens again and again.
COUNTS = [(24, 600), (600, 24), (25, 25), (26, 24), (3, 1001), (0, 7), (9, 0), (501, 499), (1000, 1001)]


@pytest.mark.parametrize("by_gender", [True, False])
@pytest.mark.parametrize("size", [500, 7])
def test_planned_stations_are_the_stations_assignment_makes(settings, by_gender, size):
    settings.VOTERROLL_STATIONS_BY_GENDER = by_gender
    settings.VOTERROLL_STATION_SIZE = size
    centers_of_women_and_men(COUNTS)

    assign_stations()

    assert planned_stations() == stations_of()
    some = [pk for pk, *_ in stations_of()[::5]]
    assert planned_stations(some) == stations_of(some)


def test_assigning_in_batches_makes_what_assigning_at_once_makes():
    centers_of_women_and_men(COUNTS)
    assign_stations()
    at_once = stations_snapshot()
    mover = Voter.objects.get(pk=1)  # a voter who moved keeps no assignment at the old center
    VoterRegistration.objects.filter(voter=mover).update(center=PollingCenter.objects.order_by("pk").last())
    assign_stations()
    at_once_after_move = stations_snapshot()
    VoterRegistration.objects.filter(voter=mover).update(center=PollingCenter.objects.order_by("pk").first())
    assign_stations()

    VoterRegistration.objects.filter(voter=mover).update(center=PollingCenter.objects.order_by("pk").last())
    pks = list(PollingCenter.objects.order_by("pk").values_list("pk", flat=True))
    for number, batch in enumerate([pks[:1], pks[1:4], pks[4:]]):
        assign_batch(batch, first=number == 0, every_center=True)

    assert stations_snapshot() == at_once_after_move != at_once


def test_assignment_batches_are_whole_centers_the_first_one_chunk_then_twice_as_big_up_to_four(settings):
    settings.VOTERROLL_PAGES_PER_SECOND = 100
    settings.VOTERROLL_CHUNK_SECONDS = 1.0  # a chunk is 100 pages
    # 80 centers of two stations of 400 voters: 22 pages each (a cover and ten pages, twice).
    stations = [Station(center, station, 400) for center in range(1, 81) for station in (1, 2)]

    batches = assignment_batches(stations)

    assert [station for batch in batches for station in batch] == stations  # in order, each once
    centers = [{station.center_pk for station in batch} for batch in batches]
    assert all(not first & second for first, second in itertools.combinations(centers, 2))
    # Whole centers to 100 pages (five: 110), then to 300 (nine more: 308), to 700 (eighteen:
    # 704), then 400 pages at most each time: to 1,100 (eighteen), 1,500 (nineteen: 1,518), the rest.
    assert [len(batch) for batch in centers] == [5, 9, 18, 18, 19, 11]
