"""The shapes a run's work carries between the options, the units, the record and the timeline.

They cross Celery messages and results as JSON, so they are NamedTuples (sent as lists, made
again with ``Type(*value)``) and TypedDicts (sent as they are): no conversion on either side.
"""

from typing import NamedTuple, TypedDict


class CenterRef(NamedTuple):
    """What a unit needs of its center, sent along so that it does not load the center again."""

    pk: int
    number: int
    name: str

    @classmethod
    def of(cls, center) -> "CenterRef":
        """The reference of a PollingCenter."""
        return cls(center.pk, center.number, center.name)


class StationRef(NamedTuple):
    """One station of one center: what a unit is asked to write."""

    center: CenterRef
    station: int

    @classmethod
    def from_message(cls, message) -> "StationRef":
        """A StationRef again, from the nested lists a message carries it as."""
        center, station = message
        return cls(CenterRef(*center), station)


class Station(NamedTuple):
    """A station as assigned in the database (voterroll.stations.stations_of)."""

    center_pk: int
    station: int
    voters: int


class FileEntry(TypedDict):
    """One file the run wrote, as its job record lists it (voterroll.record)."""

    name: str
    pages: int
    bytes: int
    sha256: str


class ListedStation(TypedDict):
    """One station as the job record lists it: who is on its roll, and its files."""

    center: tuple[int, str]  # number, name
    station: int
    gender: str
    voters: int
    first: tuple[int, str]  # voter number, name
    last: tuple[int, str]
    files: list[FileEntry]


class Bar(TypedDict):
    """One task on the run's timeline: a ``kind`` of work in a worker process ``lane``
    ("host:pid"), from ``start`` to ``end`` (Unix seconds)."""

    kind: str
    lane: str
    start: float
    end: float


class Tally(Bar):
    """What a unit did (a station, a center, a center's assignment), and its bar."""

    center: int  # pk
    stations: int
    pages: int
    stations_listed: list[ListedStation]


class Plan(NamedTuple):
    """What a run's canvas will do, recorded as it is sent: its progress is then told from the
    results of ``header_id``'s tasks stored so far, with no write per task."""

    header_id: str  # the chord header whose tasks are the run's units
    stations: int | None  # None: the units assign them (option 3)
    pages: int | None


# What a header task returns: a tally; a chunk's list of them; None once its run has ended;
# a bar alone (option 5c's assigner, which writes nothing).
UnitResult = Tally | list[Tally | None] | Bar | None
