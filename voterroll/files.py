"""A run's files, through Django's storage API (settings.STORAGES["default"]).

The file system under VAR_DIR by default; any S3-compatible object store in production, so
that workers on several machines and the web process share them. Names are relative to the
storage (``voterroll/run-7-1a2b3c4d/center_12345_1.pdf``); a name that would leave it is
refused by the storage itself (SuspiciousFileOperation). On the file system, only regular
files inside the run's folder count as its files: a symbolic link planted there (to
/etc/passwd, say) is neither listed, served nor zipped.
"""

import os
import re
import stat
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from zipstream import ZIP_STORED, ZipStream

# A run's folder: per station its roll and its sign, and the run's job record (voterroll.record).
STATION_FILE = re.compile(r"center_(\d+)_(\d+)(_sign)?\.pdf")
RECORD_FILES = ["metadata.json", "metadata.json.sha256", "stations.csv"]


def roll_name(folder, center_number, station):
    return f"{folder}/center_{center_number}_{station}.pdf"


def sign_name(folder, center_number, station):
    return f"{folder}/center_{center_number}_{station}_sign.pdf"


def save(name, data):
    """Store ``data`` under exactly ``name``, replacing a file there whole: a reader sees the
    old file or the new one, never half of one, and a unit run twice leaves one file.

    On the file system: a temporary file beside it, which this function opens, writes and
    closes itself, renamed over it. On S3: one PUT (files here are far below boto3's 8 MiB
    multipart threshold), which an object store applies whole; file_overwrite keeps the name.
    """
    if isinstance(default_storage, FileSystemStorage):
        target = Path(default_storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            # mkstemp makes the file readable by its owner only; the web server may be another.
            os.chmod(temporary, default_storage.file_permissions_mode or 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return
    stored = default_storage.save(name, ContentFile(data))
    if stored != name:  # a storage that renames rather than replaces would duplicate rolls
        default_storage.delete(stored)
        raise RuntimeError(f"the storage stored {name!r} as {stored!r}; it must overwrite")


def rolls(folder):
    """The rolls in ``folder``, by center and station."""
    return [name for name in run_files(folder) if name.endswith(".pdf") and not name.endswith("_sign.pdf")]


def run_files(folder):
    """The files of a run's ``folder``: its job record, then each station's roll and sign, by
    center and station. Anything else there (a stray copy, a temporary file) is left out."""
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    if isinstance(default_storage, FileSystemStorage):
        names = [name for name in names if _inside_storage(f"{folder}/{name}")]
    stations = []
    for name in names:
        match = STATION_FILE.fullmatch(name)
        if match:
            stations.append((int(match[1]), int(match[2]), bool(match[3]), name))
    record = [name for name in RECORD_FILES if name in names]
    return [f"{folder}/{name}" for name in record + [name for *_, name in sorted(stations)]]


def _inside_storage(name):
    """A regular file at exactly ``name`` under the storage's root: no link on the way to it,
    and not a link itself. (The root may be a link: it is the administrator's.)"""
    path = default_storage.path(name)
    root = os.path.realpath(default_storage.location)
    try:
        regular = stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
    return regular and os.path.realpath(path) == os.path.join(root, *name.split("/"))


def open_file(name):
    """A run's file opened for reading. On the file system a symbolic link put in its place
    after it was listed is refused (O_NOFOLLOW) and so is anything but a regular file."""
    if not isinstance(default_storage, FileSystemStorage):
        return default_storage.open(name, "rb")
    if not _inside_storage(name):
        raise FileNotFoundError(f"{name} is not a regular file of the storage")
    descriptor = os.open(default_storage.path(name), os.O_RDONLY | os.O_NOFOLLOW)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise FileNotFoundError(f"{name} is not a regular file")
    return File(os.fdopen(descriptor, "rb"), name=name)


def read(name):
    with open_file(name) as file:
        return file.read()


def zip_of(names):
    """A zip of ``names`` as a stream: each file is read when the stream reaches it, so a run of
    thousands of rolls never sits in memory or on the web server's disk. Stored, not deflated:
    PDFs are compressed already."""
    archive = ZipStream(compress_type=ZIP_STORED)
    for name in names:
        archive.add(_chunks(name), arcname=name.rsplit("/", 1)[-1])
    return archive


def _chunks(name):
    with open_file(name) as file:
        yield from file.chunks()


def delete_folder(folder):
    """Delete every file of a run's folder; return how many bytes that freed."""
    freed = 0
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return 0
    on_disk = isinstance(default_storage, FileSystemStorage)
    for name in names:
        if not on_disk or _inside_storage(f"{folder}/{name}"):  # not a link's target's size
            freed += default_storage.size(f"{folder}/{name}")
        default_storage.delete(f"{folder}/{name}")
    return freed
