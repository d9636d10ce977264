"""Splitting each center's voters into stations, set-based in the database."""

import itertools
import math
from contextlib import nullcontext

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, Q, Subquery, When

from project.db import reloading

from .models import PollingCenter, RollRun, StationAssignment, Voter, VoterRegistration
from .pdf import roll_pages
from .units import Station

# The most chunks of writing option 5c assigns in one batch (see assignment_batches).
BATCH_CHUNKS = 4

# Per center, voters are put in groups: women and men apart when both have at least the
# threshold, else one group, men listed first (its last station is the one mixed station).
# In a group of n voters ordered by name, k = ceil(n / size) stations, and the voter at row r
# goes to station floor((r - 1) * k / n) + 1, so station sizes differ by at most one and none
# exceeds size; the women's stations are numbered after the men's. Integer arithmetic on
# both SQLite (>= 3.25 for window functions) and PostgreSQL. Parameters, in order: size four
# times, then by-gender (1 or 0), the threshold twice, by-gender again.
ASSIGN_SQL = """
INSERT INTO {assignment} (voter_id, center_id, station)
SELECT voter_id, center_id,
       (position - 1) * ((grouped + %s - 1) / %s) / grouped + 1
       + CASE WHEN grp = 'F' THEN (men + %s - 1) / %s ELSE 0 END
FROM (
    SELECT voter_id, center_id, grp, men,
           ROW_NUMBER() OVER (PARTITION BY center_id, grp ORDER BY listed, name, number) AS position,
           COUNT(*) OVER (PARTITION BY center_id, grp) AS grouped
    FROM (
        SELECT voter_id, center_id, name, number, men,
               CASE WHEN %s = 1 AND men >= %s AND women >= %s THEN gender ELSE '' END AS grp,
               CASE WHEN %s = 1 AND gender = 'M' THEN 0 ELSE 1 END AS listed
        FROM (
            SELECT registration.voter_id, registration.center_id, voter.name, voter.number,
                   voter.gender,
                   SUM(CASE WHEN voter.gender = 'M' THEN 1 ELSE 0 END)
                       OVER (PARTITION BY registration.center_id) AS men,
                   SUM(CASE WHEN voter.gender = 'F' THEN 1 ELSE 0 END)
                       OVER (PARTITION BY registration.center_id) AS women
            FROM {registration} registration
            JOIN {voter} voter ON voter.id = registration.voter_id
            {where}
        ) counted
    ) grouped_voters
) ranked
"""


def assign_stations(center_pks=None):
    """Replace the station assignments of the given centers (all when None); return how many.

    One transaction: a reader sees the old assignments or the new ones, never a mix.
    """
    if center_pks is not None:
        center_pks = list(center_pks)
        if not center_pks:
            return 0
    with transaction.atomic():
        if center_pks is None:
            replacing = reloading(StationAssignment)
        else:
            replacing = nullcontext()
            # The centers' own assignments, and those of their voters wherever they are: a voter
            # who moved here still has one at the old center (one per voter, so it must go).
            # Two statements, each on an index; one with OR scans every assignment.
            registered = VoterRegistration.objects.filter(center_id__in=center_pks).values("voter_id")
            StationAssignment.objects.filter(center_id__in=center_pks).delete()
            StationAssignment.objects.filter(voter_id__in=registered).delete()
        with replacing:
            return insert_assignments(center_pks)


def assign_batch(center_pks: list[int], first: bool, every_center: bool) -> int:
    """Assign the stations of ``center_pks``, one of the batches option 5c assigns a run's
    centers in, committed when it returns; return how many voters.

    Over ``every_center``, the ``first`` batch empties the table as ``assign_stations()`` does
    (a bulk reload) and the others only insert: no deletes, and each index and key is kept up
    row by row. Until the last batch a reader sees the later batches' centers with no
    stations. A run over one center replaces its assignments (``assign_stations``).
    """
    if not every_center:
        return assign_stations(center_pks)
    with transaction.atomic(), reloading(StationAssignment) if first else nullcontext():
        return insert_assignments(center_pks)


def insert_assignments(center_pks: list[int] | None) -> int:
    """Insert the assignments of the given centers' voters (all when None), in one statement
    (ASSIGN_SQL), into a table that holds none of theirs; return how many."""
    quote = connection.ops.quote_name
    size = settings.VOTERROLL_STATION_SIZE
    by_gender = int(settings.VOTERROLL_STATIONS_BY_GENDER)
    below = settings.VOTERROLL_MIXED_STATION_BELOW
    params = [size, size, size, size, by_gender, below, below, by_gender]
    where = ""
    if center_pks is not None:
        where = f"WHERE registration.center_id IN ({', '.join(['%s'] * len(center_pks))})"
        params += center_pks
    sql = ASSIGN_SQL.format(
        assignment=quote(StationAssignment._meta.db_table),
        registration=quote(VoterRegistration._meta.db_table),
        voter=quote(Voter._meta.db_table),
        where=where,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def planned_stations(center_pks: list[int] | None = None) -> list[Station]:
    """The stations ``assign_stations`` would make of the given centers' voters (all when
    None), in order, from one count per center: what option 5c plans before it assigns.

    A voter without a gender counts as a woman (runs by gender refuse such voters).
    """
    registrations = VoterRegistration.objects.all()
    if center_pks is not None:
        registrations = registrations.filter(center_id__in=center_pks)
    counts = (
        registrations.values_list("center_id")
        .annotate(men=Count("pk", filter=Q(voter__gender=Voter.Gender.MALE)), voters=Count("pk"))
        .order_by("center_id")
    )
    return [
        Station(center_pk, number, voters)
        for center_pk, men, everyone in counts
        for number, voters in enumerate(center_station_sizes(men, everyone - men), start=1)
    ]


def center_station_sizes(men: int, women: int) -> list[int]:
    """The voters of each station of a center of ``men`` and ``women``, by station number, as
    ASSIGN_SQL makes them."""
    size = settings.VOTERROLL_STATION_SIZE
    below = settings.VOTERROLL_MIXED_STATION_BELOW

    def split(voters):  # station j of k holds the rows r (from 0) with floor(r * k / voters) = j
        stations = ceil_div(voters, size)
        return [
            ceil_div((j + 1) * voters, stations) - ceil_div(j * voters, stations) for j in range(stations)
        ]

    if settings.VOTERROLL_STATIONS_BY_GENDER and men >= below and women >= below:
        return split(men) + split(women)
    return split(men + women)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def stations_of(center_pks: list[int] | None = None) -> list[Station]:
    """Every station that has voters (of the given centers, or all), in order."""
    assignments = StationAssignment.objects.all()
    if center_pks is not None:
        assignments = assignments.filter(center_id__in=center_pks)
    rows = (
        assignments.values_list("center_id", "station")
        .annotate(voters=Count("*"))
        .order_by("center_id", "station")
    )
    return [Station(*row) for row in rows]


def printed_voters(stations):
    """The voters of ``stations`` ((center pk, station) pairs), station by station, each in the
    order printed."""
    by_center = {}
    for center_pk, station in stations:
        by_center.setdefault(center_pk, []).append(station)
    wanted = Q()
    for center_pk, numbers in by_center.items():
        wanted |= Q(station__center_id=center_pk, station__station__in=numbers)
    return Voter.objects.filter(wanted).order_by("station__center_id", "station__station", *printed_order())


def roll_rows(run_id, stations):
    """{(center pk, station): (folder, [(voter number, name, gender), …] in the order printed)}
    for each of ``stations`` ((center pk, station) pairs) that has voters, while the run is
    running: one statement, however many stations.

    The run's folder comes from the database, not from a message, and with it the voters: once
    the run has ended (failed, say, and new fake data has reused its centers' keys) there are
    none, so no task of an ended run writes another's voters.
    """
    running = RollRun.objects.running().filter(pk=run_id).values("output_dir")
    rows = (
        printed_voters(stations)
        .annotate(folder=Subquery(running))
        .filter(folder__isnull=False)
        .values_list("station__center_id", "station__station", "folder", "number", "name", "gender")
    )
    found = {}
    for center_pk, station, folder, *voter in rows:
        found.setdefault((center_pk, station), (folder, []))[1].append(tuple(voter))
    return found


def station_voters(center_pk, station):
    """(voter number, name, gender) of one station, in the order they are printed."""
    return list(printed_voters([(center_pk, station)]).values_list("number", "name", "gender"))


def printed_order():
    """A station's voters as printed: by name; men first in a mixed station when stations are by
    gender, as assign_stations ordered them."""
    if not settings.VOTERROLL_STATIONS_BY_GENDER:
        return ["name", "number"]
    return [Case(When(gender=Voter.Gender.MALE, then=0), default=1), "name", "number"]


def centers_with_voters(center_pk=None):
    """The centers that have registered voters (or the one of ``center_pk``), in pk order."""
    registrations = VoterRegistration.objects.all()
    if center_pk is not None:
        registrations = registrations.filter(center_id=center_pk)
    pks = sorted(registrations.values_list("center_id", flat=True).distinct())
    centers = PollingCenter.objects.in_bulk(pks)
    return [centers[pk] for pk in pks]


def station_chunks(stations: list[Station], processes: int = 1) -> list[list[Station]]:
    """``stations`` cut, in order, into chunks of about VOTERROLL_CHUNK_SECONDS of writing each,
    and into at least as many as the workers' ``processes`` (stations allowing): none idles for
    lack of a chunk.

    The pages are known from the voters; VOTERROLL_PAGES_PER_SECOND says how fast one process
    writes them. The chunks are made about equal in pages, not in stations (a small center's
    station has few pages): a run lasts as long as its longest chunk.
    """
    pages = [roll_pages(voters) for _, _, voters in stations]
    per_chunk = settings.VOTERROLL_PAGES_PER_SECOND * settings.VOTERROLL_CHUNK_SECONDS
    count = max(1, min(len(stations), max(processes, math.ceil(sum(pages) / per_chunk))))
    share = sum(pages) / count
    cut, written = [[]], 0
    for station, station_pages in zip(stations, pages, strict=True):
        if written >= share * len(cut) and len(cut) < count:
            cut.append([])
        cut[-1].append(station)
        written += station_pages
    return cut


def batches_pay() -> bool:
    """Whether assigning in batches beside the writing beats assigning at once on this database.

    On SQLite a batch costs its share of the one statement. PostgreSQL keeps a live table's
    indexes and foreign keys up row by row (14 µs a voter, almost half of it the keys' checks at
    commit) where one statement reloads the table in bulk (5 µs): a million voters took 14 s in
    batches against 5.4 s at once, and with two processes the overlap hides at most half of it
    (5c went from 16.9 s to 22.0 s). There the assigner assigns every center in one batch.
    """
    return connection.vendor != "postgresql"


def assignment_batches(stations: list[Station]) -> list[list[Station]]:
    """``stations`` (as planned, in order) cut into batches of whole centers, which option 5c
    assigns one after the other, writing each batch's chunks while it assigns the next.

    The first batch is about one chunk of writing, so that a process starts writing early;
    each next one is twice the one before, so that a run takes few statements, up to
    BATCH_CHUNKS chunks, so that the processes that write are fed a batch every few seconds,
    not half the run at the end. (Used where batches pay: see batches_pay.)
    """
    per_chunk = settings.VOTERROLL_PAGES_PER_SECOND * settings.VOTERROLL_CHUNK_SECONDS
    batches, written, batch_end, size = [], 0, 0, per_chunk
    for _, center in itertools.groupby(stations, key=lambda station: station.center_pk):
        if written >= batch_end:
            batches.append([])
            batch_end += size
            size = min(2 * size, BATCH_CHUNKS * per_chunk)
        for station in center:
            batches[-1].append(station)
            written += roll_pages(station.voters)
    return batches
