"""A finished run's folder: a roll and a sign per station, a CSV of its stations and a job
record that agree with each other and with the voters; verify_run catches any change."""

import csv
import hashlib
import io
import json
import unicodedata

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from tests.voterroll_utils import read_roll, wait_for_outcome
from voterroll import files
from voterroll.fake_data import replace_voter_data
from voterroll.models import PollingCenter
from voterroll.options import Option
from voterroll.runs import start_run
from voterroll.stations import station_voters

pytestmark = pytest.mark.broker


@pytest.fixture
def run(worker):
    """A finished 5c run over 2,600 voters of both genders in three centers."""
    replace_voter_data(2600, seed=3)
    finished = wait_for_outcome(start_run(Option.CHORD_OF_CHUNKS))
    assert finished.status == "finished", finished.error
    return finished


def record_of(run):
    return json.loads(files.read(f"{run.output_dir}/metadata.json"))


def stations_table(run):
    return list(csv.DictReader(io.StringIO(files.read(f"{run.output_dir}/stations.csv").decode())))


def test_the_record_lists_every_file_with_its_pages_bytes_and_digest(run):
    record = record_of(run)
    digest = files.read(f"{run.output_dir}/metadata.json.sha256").decode()

    assert (
        digest
        == f"{hashlib.sha256(files.read(f'{run.output_dir}/metadata.json')).hexdigest()}  metadata.json\n"
    )
    assert (record["run"], record["option"]) == (run.pk, run.option)
    assert record["inputs"]["voters"] == 2600 and record["inputs"]["stations"] == run.stations
    listed = {entry["name"]: entry for entry in record["files"]}
    on_disk = [name.rsplit("/", 1)[1] for name in files.run_files(run.output_dir)]
    assert sorted(listed) == sorted(set(on_disk) - {"metadata.json", "metadata.json.sha256"})
    assert len([name for name in listed if name.endswith("_sign.pdf")]) == run.stations
    for name, entry in listed.items():
        data = files.read(f"{run.output_dir}/{name}")
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"]), name
        if name.endswith(".pdf"):
            assert len(read_roll(f"{run.output_dir}/{name}").pages) == entry["pages"], name
    assert (
        sum(entry["pages"] for entry in listed.values() if not entry["name"].endswith("_sign.pdf"))
        == run.pages
    )


def test_the_csv_covers_and_signs_agree_with_the_stations_voters(run):
    table = stations_table(run)
    centers = {center.number: center for center in PollingCenter.objects.all()}

    assert len(table) == run.stations
    assert {row["gender"] for row in table} <= {"F", "M", "mixed"} and {"F", "M"} <= {
        row["gender"] for row in table
    }
    for row in table:
        center = centers[int(row["center_number"])]
        voters = station_voters(center.pk, int(row["station"]))
        genders = {gender for _, _, gender in voters}
        assert row["gender"] == (genders.pop() if len(genders) == 1 else "mixed")
        assert int(row["voters"]) == len(voters)
        assert (int(row["first_voter_number"]), row["first_voter_name"]) == voters[0][:2]
        assert (int(row["last_voter_number"]), row["last_voter_name"]) == voters[-1][:2]
        roll = read_roll(f"{run.output_dir}/{row['roll']}")
        cover = roll.pages[0].extract_text()
        assert f"{voters[0][1]} ({voters[0][0]})" in cover and f"{voters[-1][1]} ({voters[-1][0]})" in cover
        assert f"Voters\n{len(voters)}\n" in cover
        assert f"List pages\n{len(roll.pages) - 1} ({len(roll.pages)} with this cover)\n" in cover
        sign = read_roll(f"{run.output_dir}/{row['sign']}").pages[0].extract_text()
        assert (
            f"Station {row['station']}" in sign
            and f"From: {voters[0][1]}" in sign
            and f"To: {voters[-1][1]}" in sign
        )


def test_a_station_never_mixes_genders_except_the_one_mixed_station_of_a_center(run):
    table = stations_table(run)

    for number in {row["center_number"] for row in table}:
        genders = [row["gender"] for row in table if row["center_number"] == number]
        assert genders.count("mixed") <= 1
        if "mixed" in genders:
            assert set(genders) <= {"mixed", "M", "F"} and len(set(genders) - {"mixed"}) <= 1


def test_verify_run_passes_a_run_as_written(run):
    out = io.StringIO()

    call_command("verify_run", str(run.pk), stdout=out)

    assert f"all {run.stations * 2 + 1} files match its job record" in out.getvalue()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("roll", "its SHA-256 differs from the record's"),
        ("truncated sign", "bytes, the record says"),
        ("deleted sign", "missing"),
        ("record", "metadata.json does not match metadata.json.sha256"),
        ("extra roll", "not in the record"),
    ],
)
def test_verify_run_names_every_file_that_does_not_match_and_exits_non_zero(run, change, named):
    roll, sign = files.rolls(run.output_dir)[0], files.run_files(run.output_dir)[-1]
    if change == "roll":
        data = bytearray(files.read(roll))
        data[-20] ^= 1  # one bit, same size
        files.save(roll, bytes(data))
    elif change == "truncated sign":
        files.save(sign, files.read(sign)[:-10])
    elif change == "deleted sign":
        default_storage.delete(sign)
    elif change == "record":
        record = files.read(f"{run.output_dir}/metadata.json")
        files.save(f"{run.output_dir}/metadata.json", record.replace(b'"run": ', b'"run": 1', 1))
    else:
        files.save(files.roll_name(run.output_dir, 99999, 1), b"%PDF not written by the run")
    err = io.StringIO()

    with pytest.raises(CommandError, match="problem"):
        call_command("verify_run", str(run.pk), stderr=err)

    assert named in err.getvalue()


def test_verify_run_refuses_an_unknown_run(db):
    with pytest.raises(CommandError, match="There is no run 12345"):
        call_command("verify_run", "12345")


def test_the_center_page_links_to_its_rolls_signs_and_the_runs_station_list(run, admin_client):
    center = PollingCenter.objects.order_by("pk").first()

    page = admin_client.get(f"/admin/voterroll/pollingcenter/{center.pk}/change/").content.decode()

    base = f"/admin/voterroll/rollrun/{run.pk}/files/"
    assert f'{base}center_{center.number}_1.pdf"' in page
    assert f'{base}center_{center.number}_1_sign.pdf"' in page
    assert f'{base}stations.csv"' in page
    other = PollingCenter.objects.order_by("pk").last()
    assert f"center_{other.number}_1.pdf" not in page


def test_an_arabic_run_prints_shaped_names_in_its_rolls_and_signs(worker):
    replace_voter_data(600, seed=4, locales=["ar_AA"])
    run = wait_for_outcome(start_run(Option.CHORD_BY_STATION))

    text = "".join(
        page.extract_text()
        for name in files.run_files(run.output_dir)
        if name.endswith(".pdf")
        for page in read_roll(name).pages
    )
    assert run.status == "finished" and text
    unshaped = [char for char in text if "\u0621" <= char <= "\u064a" and char != "\u0640"]
    assert not unshaped
    assert any("\ufe8d" <= char <= "\ufefc" for char in text)  # joined forms
    assert unicodedata.normalize("NFKC", text) != text
