"""A run's files in storage: written whole or not at all, listed strictly, never outside it."""

import io
import os
import zipfile

import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import default_storage

from voterroll import files

FOLDER = "voterroll/run-1-test"


@pytest.fixture
def folder(settings, tmp_path):
    """A run's folder on the tests' storage: the file system, or S3 in the storage pass."""
    settings.MEDIA_ROOT = tmp_path  # the default storage follows (setting_changed)
    return FOLDER


@pytest.fixture
def filesystem_folder(settings, tmp_path):
    """A run's folder on the file system, whatever storage the pass uses: for what only the
    file system does (permissions, a rename that fails)."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return FOLDER


def test_saving_replaces_a_file_whole_and_leaves_nothing_else(folder):
    name = files.roll_name(folder, 12345, 1)
    files.save(name, b"%PDF an older roll")

    files.save(name, b"%PDF the new roll")

    assert files.read(name) == b"%PDF the new roll"
    assert default_storage.listdir(folder) == ([], ["center_12345_1.pdf"])


def test_a_saved_roll_can_be_read_by_another_user(filesystem_folder):
    """mkstemp makes files 0600: a web server running as another user could not serve them."""
    folder = filesystem_folder
    files.save(files.roll_name(folder, 1, 1), b"%PDF")

    assert os.stat(default_storage.path(files.roll_name(folder, 1, 1))).st_mode & 0o044 == 0o044


def test_a_failed_write_leaves_no_file_and_no_open_handle(filesystem_folder, monkeypatch):
    """A full disk, say: nothing half-written is left, and the handle is closed."""
    folder = filesystem_folder
    name = files.roll_name(folder, 1, 1)
    before = set(os.listdir("/proc/self/fd"))

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        files.save(name, b"%PDF" + b"x" * 100_000)

    assert default_storage.listdir(folder) == ([], [])
    assert set(os.listdir("/proc/self/fd")) <= before


def test_the_listing_keeps_only_rolls_in_center_and_station_order(folder):
    for name in (
        "center_2_1.pdf",
        "center_10_2.pdf",
        "center_10_1.pdf",
        "center_1_1 (copy).pdf",
        "notes.txt",
    ):
        files.save(f"{folder}/{name}", b"%PDF")
    files.save(f"{folder}/.center_3_1.pdf.abc.part", b"%PDF half")

    assert [name.rsplit("/", 1)[1] for name in files.rolls(folder)] == [
        "center_2_1.pdf",
        "center_10_1.pdf",
        "center_10_2.pdf",
    ]
    assert files.rolls("voterroll/no-such-run") == []


def test_a_name_that_leaves_the_storage_is_refused(folder):
    with pytest.raises(SuspiciousOperation):
        files.save("../../outside.pdf", b"%PDF")


def test_a_zip_of_a_national_run_streams_every_roll_without_holding_them(filesystem_folder):
    """2,500 rolls, as a run of a whole country has: the stream reads one roll at a time. (On
    the file system: 2,500 objects through moto take half a minute; the admin's zip test runs
    on S3 in the storage pass.)"""
    folder = filesystem_folder
    names = [files.roll_name(folder, 1000 + n // 5, n % 5 + 1) for n in range(2500)]
    for name in names:
        files.save(name, b"%PDF " + name.encode())
    opened = []
    real_open = default_storage.open

    def recording_open(name, mode="rb"):
        opened.append(name)
        return real_open(name, mode)

    default_storage.open = recording_open  # the lazy object's instance; it goes with the test
    try:
        stream = iter(files.zip_of(files.rolls(folder)))
        first = next(stream)
        assert len(opened) <= 1, "the zip read every roll before sending its first bytes"
        archive = io.BytesIO(first + b"".join(stream))
    finally:
        del default_storage.open

    with zipfile.ZipFile(archive) as bundle:
        assert len(bundle.namelist()) == 2500
        assert bundle.read("center_1499_5.pdf") == b"%PDF " + names[-1].encode()


def test_deleting_a_runs_folder_removes_its_files_and_says_how_many_bytes(folder):
    files.save(files.roll_name(folder, 1, 1), b"%PDF 12")
    files.save(files.roll_name(folder, 1, 2), b"%PDF 345")
    files.save(files.roll_name("voterroll/run-2-other", 1, 1), b"%PDF")

    assert files.delete_folder(folder) == 15

    assert files.rolls(folder) == []
    assert len(files.rolls("voterroll/run-2-other")) == 1
