"""Splitting each center's voters into stations, set-based in the database."""
from django.conf import settings
from django.db import connection, transaction

from .models import StationAssignment, Voter, VoterRegistration

# Per center, voters ordered by name get row numbers 1..n; a center of n voters has
# k = ceil(n / size) stations and row r goes to station floor((r - 1) * k / n) + 1, so
# station sizes differ by at most one and none exceeds size. Integer arithmetic on both
# SQLite (>= 3.25 for window functions) and PostgreSQL.
ASSIGN_SQL = """
INSERT INTO {assignment} (voter_id, center_id, station)
SELECT voter_id, center_id, (position - 1) * ((voters + %s - 1) / %s) / voters + 1
FROM (
    SELECT registration.voter_id, registration.center_id,
           ROW_NUMBER() OVER (
               PARTITION BY registration.center_id ORDER BY voter.voter_name, voter.voter_id
           ) AS position,
           COUNT(*) OVER (PARTITION BY registration.center_id) AS voters
    FROM {registration} registration
    JOIN {voter} voter ON voter.id = registration.voter_id
    {where}
) ranked
"""


def assign_stations(center_pks=None):
    """Replace the station assignments of the given centers (all when None); return how many.

    One transaction: a reader sees the old assignments or the new ones, never a mix.
    """
    quote = connection.ops.quote_name
    size = settings.VOTERROLL_STATION_SIZE
    params = [size, size]
    where = ""
    existing = [StationAssignment.objects.all()]
    if center_pks is not None:
        center_pks = list(center_pks)
        if not center_pks:
            return 0
        where = f"WHERE registration.center_id IN ({', '.join(['%s'] * len(center_pks))})"
        params += center_pks
        # The centers' own assignments, and those of their voters wherever they are: a voter
        # who moved here still has one at the old center (one per voter, so it must go).
        # Two statements, each on an index; one with OR scans every assignment.
        registered = VoterRegistration.objects.filter(center_id__in=center_pks).values("voter_id")
        existing = [
            StationAssignment.objects.filter(center_id__in=center_pks),
            StationAssignment.objects.filter(voter_id__in=registered),
        ]
    sql = ASSIGN_SQL.format(
        assignment=quote(StationAssignment._meta.db_table),
        registration=quote(VoterRegistration._meta.db_table),
        voter=quote(Voter._meta.db_table),
        where=where,
    )
    with transaction.atomic():
        for assignments in existing:
            assignments.delete()  # no dependents and no signals: one DELETE statement
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


def stations_of(center_pks=None):
    """(center pk, station) pairs that have voters, in order."""
    assignments = StationAssignment.objects.all()
    if center_pks is not None:
        assignments = assignments.filter(center_id__in=center_pks)
    return [
        tuple(pair)
        for pair in assignments.values_list("center_id", "station").distinct().order_by(
            "center_id", "station"
        )
    ]


def station_voters(center_pk, station):
    """(voter id, voter name) of one station, in the order they are printed."""
    return list(
        Voter.objects.filter(station__center_id=center_pk, station__station=station)
        .order_by("voter_name", "voter_id")
        .values_list("voter_id", "voter_name")
    )
