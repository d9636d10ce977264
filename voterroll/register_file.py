"""A voter register as a CSV file: read in whole or not at all, and written back the same.

The format (README, "Bring your own register"): UTF-8, with or without a byte-order mark;
comma- or semicolon-separated, whichever splits the header row into known columns; a header
row naming the five COLUMNS (in any order, by their names or an alias); then one voter a line.

The file is read once, and every line checked, before anything changes: the rows go, as
checked, to a temporary file (about the register's size on the local disk), and memory holds
only each voter number (8 bytes in an array, to find one used twice) and each center, never the
names. Only if nothing is wrong are the rows written, through voterroll.loading, in one
transaction. The commands, the admin's upload task and the benchmark all call
``import_register`` and ``export_register``.
"""

import bisect
import codecs
import csv
import marshal
import re
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from operator import itemgetter

from celery import current_app
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .loading import BATCH_SIZE, replace_all
from .models import PollingCenter, Voter, VoterRegister, VoterRegistration
from .runs import RunRefused
from .spreadsheet import spreadsheet_safe, unescaped

# Each column's name as export_register writes it, then the other names a header may use;
# compared without case, with spaces, dashes and dots read as underscores.
COLUMNS = {
    "voter_number": ["number", "voter_no", "voter_id", "voter", "رقم_الناخب"],
    "name": ["voter_name", "full_name", "الاسم", "اسم_الناخب"],
    "gender": ["sex", "الجنس", "النوع"],
    "center_number": [
        *("centre_number", "center_no", "centre_no", "center_id", "center", "centre"),
        *("polling_center_number", "polling_centre_number", "رقم_المركز"),
    ],
    "center_name": ["centre_name", "polling_center_name", "polling_centre_name", "اسم_المركز"],
}
# Compared without case and surrounding spaces.
GENDERS = {
    Voter.Gender.FEMALE.value: ["f", "female", "woman", "w", "femme", "أنثى", "انثى", "أنثي", "انثي"],
    Voter.Gender.MALE.value: ["m", "male", "man", "homme", "h", "ذكر"],
}
DELIMITERS = [",", ";"]
# The problems a refused file reports; the rest are counted.
SHOWN_PROBLEMS = 50
# As the columns hold them: PositiveBigIntegerField, and PostgreSQL's integer for centers.
MAX_VOTER_NUMBER = 2**63 - 1
MAX_CENTER_NUMBER = 2**31 - 1
MAX_NAME = Voter._meta.get_field("name").max_length
MAX_CENTER_NAME = PollingCenter._meta.get_field("name").max_length
# Voter numbers are kept in this many arrays, by remainder, so that finding one used twice
# needs a set of one bucket's numbers at a time, not of all of them.
NUMBER_BUCKETS = 64
# The import task's time limits: a register is read once, checked, and written in one
# transaction, under a minute per million voters.
IMPORTING = {"soft_time_limit": 30 * 60, "time_limit": 30 * 60 + 30}
# Seconds between two saves of an uploaded register's progress.
PROGRESS_EVERY = 0.5

ALIASES = {alias: column for column, aliases in COLUMNS.items() for alias in [column, *aliases]}
GENDER_SPELLINGS = {spelling: gender for gender, spellings in GENDERS.items() for spelling in spellings}


class RegisterProblems(Exception):
    """The file is not a register that can be imported; nothing was changed.

    ``problems``: the first SHOWN_PROBLEMS, as (line, message), in line order; ``more``: how
    many others there are.
    """

    def __init__(self, problems, more=0):
        self.problems = problems
        self.more = more
        super().__init__(str(self))

    def lines(self):
        shown = [f"line {line}: {message}" for line, message in self.problems]
        if self.more:
            shown.append(f"… and {self.more} more problem{'s' if self.more > 1 else ''}")
        return shown

    def __str__(self):
        return "\n".join(self.lines())


class BadRow(ValueError):
    pass


@dataclass
class Checked:
    """A file whose every line is right: its centers ({number: name}, in order) and voters."""

    centers: dict
    voters: int


def import_register(open_file, size=None, progress=None):
    """Replace every center and voter with those of the register file ``open_file()`` opens
    (in binary). Return (voters, centers).

    Raises RegisterProblems, having changed nothing, if any line is wrong; runs.RunRefused while
    a run is active. ``progress(phase, done, total)`` is told of each batch: "checking" in bytes
    of ``size`` (None if unknown), then "writing" in voters, from 0 (before the transaction).
    """
    with tempfile.TemporaryFile() as spool:
        checked = check(open_file, size, progress, spool)
        spool.seek(0)
        keys = {number: key for key, number in enumerate(checked.centers, start=1)}

        def voters():
            while batch := next_batch(spool):
                for number, name, gender, center_number in batch:
                    yield number, name, gender, keys[center_number]

        written = 0

        def counted(batch):
            nonlocal written
            written += batch
            if progress:
                progress("writing", written, checked.voters)

        counted(0)
        return replace_all(checked.centers.items(), voters(), counted), len(checked.centers)


def next_batch(spool):
    """The next batch of rows check() spooled, or None at the end."""
    try:
        return marshal.load(spool)
    except EOFError:
        return None


def import_upload(register_id):
    """Import an uploaded VoterRegister's file (the admin's task), recording how it goes.

    Run again after a crash (its task is acknowledged late), it imports the file again: the
    import replaces everything, so twice is the same as once. An ended one is left alone.
    """
    registers = VoterRegister.objects.filter(pk=register_id)
    started = timezone.now()
    if not registers.filter(status__in=VoterRegister.ACTIVE).update(status="checking", started_dt=started):
        return
    register = registers.get()
    last_save = 0

    def progress(phase, done, total):
        nonlocal last_save
        if phase == "writing":
            if done == 0:  # before the transaction: once in it, no other connection sees a save
                registers.update(status="writing", checked=register.size, voters=total)
        elif time.monotonic() - last_save >= PROGRESS_EVERY:
            last_save = time.monotonic()
            registers.update(checked=done)

    try:
        voters, centers = import_register(
            lambda: default_storage.open(register.file.name, "rb"), register.size, progress
        )
    except RegisterProblems as problems:
        end(registers, "refused", outcome=str(problems), voters=None)
    except RunRefused as refused:
        end(registers, "refused", outcome=f"Voter data left unchanged: {refused}", voters=None)
    else:
        end(registers, "imported", voters=voters, centers=centers, checked=register.size)


def queue_upload(uploaded, user):
    """A VoterRegister of ``uploaded`` (a file from a form), saved to storage, so that a worker
    on any machine reads it; its import task is sent once the register is committed."""
    register = VoterRegister.objects.create(file=uploaded, size=uploaded.size, uploaded_by=user)
    transaction.on_commit(partial(send_import, register.pk))
    return register


def send_import(register_id):
    """Send the import task; if the broker refuses it, the register says so (not stuck queued)."""
    try:
        current_app.send_task("voterroll.tasks.import_register", [register_id])
    except Exception as exc:
        fail_upload(register_id, f"Could not queue its import: {exc!r}. Is the broker running?")


def fail_upload(register_id, error):
    end(
        VoterRegister.objects.filter(pk=register_id, status__in=VoterRegister.ACTIVE), "failed", outcome=error
    )


def fail_stalled_uploads():
    """Fail the uploads not imported within the import task's time limit: their worker is gone
    (a task delivered later finds them ended and does nothing), and one left active would keep
    every later upload out."""
    since = timezone.now() - timedelta(seconds=IMPORTING["time_limit"])
    stalled = VoterRegister.objects.filter(status__in=VoterRegister.ACTIVE).filter(
        Q(started_dt__lt=since) | Q(started_dt__isnull=True, queued_dt__lt=since)
    )
    limit = IMPORTING["time_limit"] // 60
    end(stalled, "failed", outcome=f"Stalled: no worker finished its import within {limit} minutes.")


def end(registers, status, **fields):
    registers.update(status=status, finished_dt=timezone.now(), **fields)


def check(open_file, size=None, progress=None, spool=None):
    """Read the whole file; return it Checked, or raise RegisterProblems with every problem.

    ``spool`` (a binary file): where the rows go, as checked, in marshalled batches of
    (voter number, name, gender, center number), while no problem is found.
    """
    problems = Problems()
    numbers = [array("q") for _ in range(NUMBER_BUCKETS)]
    centers = {}  # number: (name, first line)
    batch = []
    with open_file() as file:
        reader = Reader(file, problems, progress and (lambda done: progress("checking", done, size)))
        for line, (number, name, gender, center_number, center_name) in reader.rows():
            numbers[number % NUMBER_BUCKETS].append(number)
            known = centers.setdefault(center_number, (center_name, line))
            if known[0] != center_name:
                message = (
                    f"center {center_number} is named {center_name!r} here, {known[0]!r} on line {known[1]}"
                )
                problems.add(line, message)
            if spool is not None and not problems:
                batch.append((number, name, gender, center_number))
                if len(batch) == BATCH_SIZE:
                    marshal.dump(batch, spool)
                    batch.clear()
    if spool is not None and batch and not problems:
        marshal.dump(batch, spool)
    voters = sum(map(len, numbers))
    duplicates = used_twice(numbers)
    if duplicates:
        with open_file() as file:
            report_duplicates(Reader(file, Problems()), duplicates, problems)
    if not problems and not voters:
        problems.add(1, "no voters in the file")
    if problems:
        raise RegisterProblems(problems.shown, problems.more)
    return Checked({number: name for number, (name, _) in centers.items()}, voters)


def used_twice(buckets):
    """The numbers in ``buckets`` (arrays) more than once, one bucket's set at a time."""
    duplicates = set()
    for bucket in buckets:
        if len(set(bucket)) < len(bucket):
            duplicates.update(number for number, count in Counter(bucket).items() if count > 1)
    return duplicates


def report_duplicates(reader, duplicates, problems):
    """Add a problem for each line of ``reader`` that uses one of ``duplicates`` again."""
    first = {}
    for line, (number, *_) in reader.rows():
        if number in duplicates:
            if number in first:
                problems.add(line, f"voter number {number} is used again, first on line {first[number]}")
            else:
                first[number] = line


class Problems:
    """What is wrong with a file, by line: the SHOWN_PROBLEMS of the first lines kept, in line
    order, the others counted (duplicates are found after the other problems)."""

    def __init__(self):
        self.shown = []
        self.more = 0

    def add(self, line, message):
        if len(self.shown) == SHOWN_PROBLEMS and line >= self.shown[-1][0]:
            self.more += 1
            return
        bisect.insort(self.shown, (line, message), key=itemgetter(0))
        if len(self.shown) > SHOWN_PROBLEMS:
            self.shown.pop()
            self.more += 1

    def __bool__(self):
        return bool(self.shown)


class Reader:
    """One reading of a register file (binary): its rows, each line decoded on its own so that
    a line that is not UTF-8 is reported by number, and its header mapped to the columns.

    ``problems`` (a Problems) collects what is wrong; the rows that are wrong are left out.
    """

    def __init__(self, file, problems, progress=None):
        self.file = file
        self.problem = problems.add
        self.progress = progress
        self.bytes = 0
        self.bad_line = 0  # the last line that was not UTF-8

    def lines(self):
        for line, raw in enumerate(self.file, start=1):
            self.bytes += len(raw)
            if line == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode()
            except UnicodeDecodeError as error:
                self.bad_line = line
                self.problem(line, f"not UTF-8 (byte {raw[error.start]:#x} at {error.start + 1})")
                yield raw.decode(errors="replace")

    def header(self, text):
        """The delimiter and, per column, the cell it is in; problems with line 1 if any."""
        best = None
        for delimiter in DELIMITERS:
            names = next(csv.reader([text], delimiter=delimiter), [])
            columns = [ALIASES.get(re.sub(r"[\s.\-]+", "_", name.strip().casefold())) for name in names]
            known = sum(column is not None for column in columns)
            if best is None or known > best[0]:
                best = known, delimiter, names, columns
        _, delimiter, names, columns = best
        problems = [
            f"unknown column {name.strip()!r}"
            for name, column in zip(names, columns, strict=True)
            if column is None
        ]
        problems += [f"two columns are {column}" for column in COLUMNS if columns.count(column) > 1]
        problems += [f"no {column} column" for column in COLUMNS if column not in columns]
        if problems:
            expected = ", ".join(COLUMNS)
            self.problem(1, f"{'; '.join(problems)} (the columns are {expected}; README lists their aliases)")
            return delimiter, None, len(names)
        return delimiter, itemgetter(*(columns.index(column) for column in COLUMNS)), len(names)

    def rows(self):
        """(line, (voter number, name, gender, center number, center name)) for each right row."""
        lines = self.lines()
        text = next(lines, None)
        if text is None:
            self.problem(1, "the file is empty")
            return
        delimiter, pick, width = self.header(text)
        if pick is None:
            return
        reader = csv.reader(lines, delimiter=delimiter)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # a NUL byte, a cell past csv's size limit
                self.problem(reader.line_num + 1, f"not CSV: {error}")
                continue
            line = reader.line_num + 1
            if self.progress and line % BATCH_SIZE == 0:
                self.progress(self.bytes)
            if not cells or line == self.bad_line:  # a blank line; one reported already
                continue
            if len(cells) != width:
                kind = "missing" if len(cells) < width else "extra"
                self.problem(line, f"{kind} columns: {len(cells)} cells where the header has {width}")
                continue
            try:
                yield line, parse(pick(cells))
            except BadRow as bad:
                self.problem(line, str(bad))
        if self.progress:
            self.progress(self.bytes)


def parse(cells):
    """A row's five cells, in COLUMNS order, as what goes into the database; or BadRow."""
    number, name, gender, center_number, center_name = map(str.strip, cells)
    if name[:1] == "'":
        name = unescaped(name)
    if center_name[:1] == "'":
        center_name = unescaped(center_name)
    voter_number = int(number) if number.isdecimal() else 0  # isdecimal: "²" and "1.5" are not
    center = int(center_number) if center_number.isdecimal() else 0
    gender_code = GENDER_SPELLINGS.get(gender.casefold())
    if (
        0 < voter_number <= MAX_VOTER_NUMBER
        and 0 < center <= MAX_CENTER_NUMBER
        and gender_code
        and 0 < len(name) <= MAX_NAME
        and 0 < len(center_name) <= MAX_CENTER_NAME
    ):
        return voter_number, name, gender_code, center, center_name
    raise BadRow("; ".join(row_problems(voter_number, name, gender_code, center, center_name, cells)))


def row_problems(voter_number, name, gender_code, center, center_name, cells):
    """What parse found wrong with a row, from what it made of the ``cells``."""
    number, _, gender, center_number, _ = (cell.strip() for cell in cells)
    if not 0 < voter_number <= MAX_VOTER_NUMBER:
        yield f"voter number {number!r} is not a whole number from 1 to {MAX_VOTER_NUMBER}"
    if not name:
        yield "empty name"
    elif len(name) > MAX_NAME:
        yield f"name longer than {MAX_NAME} characters"
    if gender_code is None:
        yield f"unknown gender {gender!r} (use F or M; README lists other spellings)"
    if not 0 < center <= MAX_CENTER_NUMBER:
        yield f"center number {center_number!r} is not a whole number from 1 to {MAX_CENTER_NUMBER}"
    if not center_name:
        yield "empty center name"
    elif len(center_name) > MAX_CENTER_NAME:
        yield f"center name longer than {MAX_CENTER_NAME} characters"


def export_register(file, progress=None):
    """Write every registered voter to ``file`` (text, opened with newline=""), in the format
    import_register reads, by center and voter number; return how many.

    Names are made spreadsheet_safe; ``progress`` is told the size of each batch written.
    """
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = VoterRegistration.objects.order_by("center__number", "voter__number").values_list(
        "voter__number", "voter__name", "voter__gender", "center__number", "center__name"
    )
    written = 0
    batch = []
    for number, name, gender, center_number, center_name in rows.iterator(chunk_size=BATCH_SIZE):
        batch.append((number, spreadsheet_safe(name), gender, center_number, spreadsheet_safe(center_name)))
        if len(batch) == BATCH_SIZE:
            written += flush(writer, batch, progress)
    return written + flush(writer, batch, progress)


def flush(writer, batch, progress):
    writer.writerows(batch)
    if progress:
        progress(len(batch))
    count = len(batch)
    batch.clear()
    return count
