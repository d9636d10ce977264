"""A finished run's job record, which anyone can check its files against.

In the run's folder, beside the rolls and signs: ``stations.csv`` (one row per station),
``metadata.json`` (the option, its inputs, its times, and per file its pages, bytes and
SHA-256) and ``metadata.json.sha256`` (the record's own digest, as sha256sum writes it, so
``sha256sum -c metadata.json.sha256`` checks it too). ``manage.py verify_run RUN_ID`` checks
every file against it.
"""

import csv
import hashlib
import io
import json
from datetime import datetime

from django.conf import settings

from . import files
from .spreadsheet import spreadsheet_safe
from .units import FileEntry, ListedStation

CSV_COLUMNS = [
    *("center_number", "center_name", "station", "gender", "voters"),
    *("first_voter_number", "first_voter_name", "last_voter_number", "last_voter_name"),
    *("pages", "roll", "sign"),
]


def store(name: str, data: bytes, pages: int) -> FileEntry:
    """Save a file of a run; return its entry in the job record."""
    files.save(name, data)
    return FileEntry(
        name=name.rsplit("/", 1)[-1], pages=pages, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def stations_csv(stations: list[ListedStation]) -> bytes:
    """``stations`` (in order) as CSV bytes; names made spreadsheet_safe."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for station in stations:
        roll, sign = station["files"]
        center_number, center_name = station["center"]
        first_number, first_name = station["first"]
        last_number, last_name = station["last"]
        writer.writerow(
            [
                center_number,
                spreadsheet_safe(center_name),
                station["station"],
                station["gender"],
                station["voters"],
                first_number,
                spreadsheet_safe(first_name),
                last_number,
                spreadsheet_safe(last_name),
                roll["pages"],
                roll["name"],
                sign["name"],
            ]
        )
    return output.getvalue().encode()


def write_record(run, stations: list[ListedStation], finished: datetime) -> int:
    """Write the record of ``run``, finished at ``finished``, whose units listed ``stations``;
    return the bytes of all its files, record included."""
    stations = sorted(stations, key=lambda station: (station["center"][0], station["station"]))
    entries = [entry for station in stations for entry in station["files"]]
    entries.append(store(f"{run.output_dir}/stations.csv", stations_csv(stations), 0))
    metadata = {
        "run": run.pk,
        "option": run.option,
        "inputs": {
            "center": run.center.number if run.center_id else None,
            "centers": len({station["center"][0] for station in stations}),
            "stations": len(stations),
            "voters": sum(station["voters"] for station in stations),
            "station_size": settings.VOTERROLL_STATION_SIZE,
            "stations_by_gender": settings.VOTERROLL_STATIONS_BY_GENDER,
            "mixed_station_below": settings.VOTERROLL_MIXED_STATION_BELOW,
        },
        "queued": run.queued_dt.isoformat(),
        "started": run.started_dt.isoformat(),
        "finished": finished.isoformat(),
        "files": entries,
    }
    document = json.dumps(metadata, ensure_ascii=False, indent=1).encode()
    digest = f"{hashlib.sha256(document).hexdigest()}  metadata.json\n".encode()
    files.save(f"{run.output_dir}/metadata.json", document)
    files.save(f"{run.output_dir}/metadata.json.sha256", digest)
    return sum(entry["bytes"] for entry in entries) + len(document) + len(digest)


def read_entries(run) -> list[FileEntry] | None:
    """The files ``run``'s job record lists; None when it has none (or not a readable one)."""
    try:
        return json.loads(files.read(f"{run.output_dir}/metadata.json"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verify(run):
    """What does not match ``run``'s record, a line each (nothing: every file matches); and how
    many files were checked."""
    folder = run.output_dir
    names = {name.rsplit("/", 1)[-1] for name in files.run_files(folder)}
    if "metadata.json" not in names:
        return [f"{folder}/metadata.json is missing: the run has no job record"], 0
    document = files.read(f"{folder}/metadata.json")
    problems = []
    if "metadata.json.sha256" not in names:
        problems.append("metadata.json.sha256 is missing")
    else:
        expected = files.read(f"{folder}/metadata.json.sha256").decode().split()[0]
        if hashlib.sha256(document).hexdigest() != expected:
            problems.append("metadata.json does not match metadata.json.sha256: the record was changed")
    try:
        listed = json.loads(document)["files"]
    except (ValueError, KeyError, TypeError) as error:
        return [*problems, f"metadata.json is not a job record: {error}"], 0
    for entry in listed:
        name = entry["name"]
        if name not in names:
            problems.append(f"{name}: missing")
            continue
        data = files.read(f"{folder}/{name}")
        if len(data) != entry["bytes"]:
            problems.append(f"{name}: {len(data)} bytes, the record says {entry['bytes']}")
        elif hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{name}: its SHA-256 differs from the record's")
    recorded = {entry["name"] for entry in listed} | {"metadata.json", "metadata.json.sha256"}
    problems += [f"{name}: not in the record" for name in sorted(names - recorded)]
    return problems, len(listed)
