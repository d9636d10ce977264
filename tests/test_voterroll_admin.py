"""Admin pages render; runs start from a form; PDFs download only for staff."""

import io
import json
import re
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from project.celery import app
from tests.voterroll_utils import center_with_voters
from voterroll import files, record
from voterroll.charts import durations_by_size
from voterroll.fake_data import replace_voter_data
from voterroll.models import PollingCenter, RollRun, StationAssignment, Voter, VoterRegistration
from voterroll.options import Option
from voterroll.pdf import roll_pdf
from voterroll.stations import assign_stations

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    started = timezone.now() - timedelta(seconds=5)
    run = RollRun.objects.create(
        option=Option.CHORD_BY_STATION,
        status=RollRun.Status.FINISHED,
        started_dt=started,
        finished_dt=started + timedelta(seconds=3.5),
        centers=1,
        stations=2,
        pages=2,
        output_dir="voterroll/run-1-test",
    )
    for station in (1, 2):
        files.save(
            files.roll_name(run.output_dir, 7, station),
            roll_pdf(7, "School", station, [(1, "A", "F")], timezone.now())[0],
        )
    return run


def test_run_list_shows_duration_pages_and_a_duration_chart_by_option(admin_client, finished_run):
    response = admin_client.get("/admin/voterroll/rollrun/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "3.50 s" in content
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="voterroll-duration-chart"' in content
    assert "5b · chord by station" in content and "3.50 s · 1 pages/s · 1 run<" in content
    assert "/admin/voterroll/rollrun/start/" in content


def finished(option, voters, pages, seconds, ago):
    """A finished run over all centers, of ``voters`` printed on ``pages``, ``ago`` seconds ago."""
    finished_dt = timezone.now() - timedelta(seconds=ago)
    return RollRun.objects.create(
        option=option,
        status=RollRun.Status.FINISHED,
        started_dt=finished_dt - timedelta(seconds=seconds),
        finished_dt=finished_dt,
        voters=voters,
        pages=pages,
    )


def test_the_chart_compares_options_only_over_the_same_data_and_the_list_says_each_runs_size(admin_client):
    """Once the voters had been replaced with fewer, 5b's 1.13 s stood against option 1's 1.47 s
    over the earlier, larger data: 5b looked faster than it is."""
    finished(Option.ALL_IN_ONE, 20_000, 620, 1.47, ago=600)
    finished(Option.CHORD_OF_CHUNKS, 20_000, 620, 0.62, ago=500)
    for seconds in (1.10, 1.13, 1.16):
        finished(Option.CHORD_BY_STATION, 5_000, 160, seconds, ago=100)

    assert [
        (size, [(option.alias, round(s, 2), round(rate), runs) for option, s, rate, runs in rows])
        for size, rows in durations_by_size()
    ] == [
        ((5_000, 160), [("5b", 1.13, 142, 3)]),
        ((20_000, 620), [("1", 1.47, 422, 1), ("5c", 0.62, 1000, 1)]),
    ]
    content = admin_client.get("/admin/voterroll/rollrun/").content.decode()
    start = content.index('class="voterroll-duration-chart"')
    chart = content[start : content.index("</svg>", start)]
    latest, earlier = (
        chart.index("5,000 voters, 160 pages · the latest"),
        chart.index("20,000 voters, 620 pages<"),
    )
    assert (
        latest < chart.index("1.13 s · 142 pages/s · 3 runs") < earlier < chart.index("1.47 s · 422 pages/s")
    )
    rows = re.findall(
        r'<td class="field-voters">([^<]*)</td>.*?<td class="field-pages_per_second">([^<]*)</td>', content
    )
    assert sorted(rows) == [
        ("20000", "1,000"),
        ("20000", "422"),
        ("5000", "138"),
        ("5000", "142"),
        ("5000", "145"),
    ]


def test_run_page_draws_a_lane_per_worker_process_and_a_bar_per_task(admin_client, finished_run):
    stations = [[n % 2, "station", 250 + n, 260 + n] for n in range(2500)]
    finished_run.timeline = {
        "lanes": ["host:101", "host:102"],
        "bars": [[0, "orchestrator", 0, 250], *stations, [1, "callback", 2760, 2762]],
    }
    finished_run.save()

    page = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/change/").content.decode()

    assert '<svg class="run-timeline"' in page
    assert page.count('<rect class="bar station"') == 2500
    assert page.count('<rect class="bar orchestrator"') == page.count('<rect class="bar callback"') == 1
    assert ">host:101</text>" in page and ">host:102</text>" in page
    assert "chord body" in page  # the legend names the kinds drawn


def test_run_detail_and_center_and_voter_pages_render(admin_client, finished_run):
    center = center_with_voters(3, number=7)

    for url in [
        f"/admin/voterroll/rollrun/{finished_run.pk}/change/",
        "/admin/voterroll/pollingcenter/",
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        "/admin/voterroll/voter/?q=Voter",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    detail = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/change/").content.decode()
    assert f"/admin/voterroll/rollrun/{finished_run.pk}/files/center_7_2.pdf" in detail


def test_staff_download_one_pdf_or_all_as_a_zip(admin_client, finished_run):
    one = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/files/center_7_1.pdf")
    bundle = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/files.zip")

    pdf, archive = b"".join(one.streaming_content), b"".join(bundle.streaming_content)
    one.close()
    bundle.close()
    assert one.status_code == 200 and pdf.startswith(b"%PDF")
    assert bundle.status_code == 200
    entries = zipfile.ZipFile(io.BytesIO(archive)).infolist()
    assert [entry.filename for entry in entries] == ["center_7_1.pdf", "center_7_2.pdf"]
    assert {entry.compress_type for entry in entries} == {zipfile.ZIP_STORED}  # PDFs are compressed


def test_downloads_are_refused_to_anonymous_non_staff_and_unpermitted_staff(
    client, django_user_model, finished_run
):
    urls = [
        f"/admin/voterroll/rollrun/{finished_run.pk}/files/center_7_1.pdf",
        f"/admin/voterroll/rollrun/{finished_run.pk}/files.zip",
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # to the admin login

    client.force_login(django_user_model.objects.create_user("voter", password="x"))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url

    client.force_login(django_user_model.objects.create_user("clerk", password="x", is_staff=True))
    for url in urls:
        assert client.get(url).status_code == 403


def test_download_serves_only_the_runs_own_pdfs(admin_client, finished_run):
    files.save("voterroll/secret.pdf", b"%PDF other")

    base = f"/admin/voterroll/rollrun/{finished_run.pk}/files"
    for name in ["secret.pdf", "center_7_9.pdf"]:
        assert admin_client.get(f"{base}/{name}").status_code == 404
    # A name with a slash does not even match the download URL.
    assert admin_client.get(f"{base}/..%2Fsecret.pdf").status_code != 200


def test_staff_with_view_permission_only_can_download_but_not_start(client, django_user_model, finished_run):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_rollrun"))
    client.force_login(clerk)

    assert client.get("/admin/voterroll/rollrun/start/").status_code == 403
    response = client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/files.zip")
    response.close()  # last: closing a response signals request_finished, which closes the connection
    assert response.status_code == 200


def test_start_form_queues_a_run_of_the_chosen_option_and_lands_on_its_page_naming_who(admin_client):
    center_with_voters(3)

    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": Option.STARMAP})

    run = RollRun.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/voterroll/rollrun/{run.pk}/change/"
    assert (run.option, run.status, run.center) == (Option.STARMAP, "queued", None)
    assert (run.started_by.username, run.started_from) == ("admin", "Start a run")
    history = LogEntry.objects.get(object_id=str(run.pk))
    assert (history.user.username, history.action_flag) == ("admin", ADDITION)
    page = admin_client.get(response.url).content.decode()
    assert "admin (Start a run)" in page
    assert admin_client.get("/admin/voterroll/rollrun/start/").status_code == 200


def test_deleting_a_run_leaves_who_and_when_in_its_history(admin_client, finished_run):
    response = admin_client.post(f"/admin/voterroll/rollrun/{finished_run.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302 and not RollRun.objects.exists()
    deleted = LogEntry.objects.get(object_id=str(finished_run.pk))
    assert (deleted.user.username, deleted.action_flag) == ("admin", DELETION)


def test_a_finished_run_page_lists_its_files_from_its_record_with_the_zip(admin_client, finished_run):
    entries = [
        record.store(f"{finished_run.output_dir}/center_7_{n}_sign.pdf", b"%PDF-sign", 1) for n in (1, 2)
    ]
    entries += [{"name": f"center_7_{n}.pdf", "pages": 2, "bytes": 2048, "sha256": "0"} for n in (1, 2)]
    files.save(f"{finished_run.output_dir}/metadata.json", json.dumps({"files": entries}).encode())

    page = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/change/").content.decode()

    assert 'class="run-files"' in page and page.count("<tr><td>7</td>") == 2
    assert f"/admin/voterroll/rollrun/{finished_run.pk}/files.zip" in page
    assert "center_7_2_sign.pdf" in page


def test_start_form_offers_each_option_as_a_button_with_what_it_does_and_teaches(admin_client):
    content = admin_client.get("/admin/voterroll/rollrun/start/").content.decode()

    positions = []
    for option in Option:
        button = f'type="radio" name="option" value="{option.value}"'
        does, teaches = escape(option.does), escape(option.teaches)
        assert content.index(button) < content.index(does) < content.index(teaches)
        positions.append(content.index(button))
    assert positions == sorted(positions)
    assert "There are no registered voters yet" in content


def test_start_form_shows_why_a_run_cannot_start(admin_client):
    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": Option.ALL_IN_ONE})

    assert response.status_code == 200
    assert "There are no registered voters in the database" in response.content.decode()
    assert not RollRun.objects.exists()


def test_start_form_refuses_a_second_run_while_one_is_active(admin_client):
    center_with_voters(3)
    active = RollRun.objects.create(option=Option.STARMAP)

    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": Option.ALL_IN_ONE})

    assert response.status_code == 200
    assert f"Run {active.pk} (assign_stations_and_generate_lists_with_starmap) is still queued" in (
        response.content.decode()
    )
    assert RollRun.objects.count() == 1


# The run is queued once the center's change commits: these tests commit, as a request does.
@pytest.mark.django_db(transaction=True)
def test_saving_a_center_during_an_active_run_keeps_the_change_but_not_the_rolls(admin_client):
    center = center_with_voters(3, number=7)
    RollRun.objects.create(option=Option.STARMAP)

    response = admin_client.post(
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        {"number": 7, "name": "New Name School"},
        follow=True,
    )

    center.refresh_from_db()
    assert center.name == "New Name School"
    assert "its rolls were not regenerated" in response.content.decode()
    assert RollRun.objects.count() == 1


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)


@pytest.mark.django_db(transaction=True)
def test_saving_a_center_while_the_broker_is_down_keeps_the_change_and_warns(admin_client, broker_down):
    center = center_with_voters(3, number=7)

    response = admin_client.post(
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        {"number": 7, "name": "New Name School"},
        follow=True,
    )

    assert response.status_code == 200
    assert "its rolls were not regenerated" in response.content.decode()
    assert "broker down" in response.content.decode()
    center.refresh_from_db()
    assert center.name == "New Name School"
    assert RollRun.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_start_form_shows_the_broker_refusing_the_run(admin_client, broker_down):
    center_with_voters(3)

    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": Option.ALL_IN_ONE})

    assert response.status_code == 200
    assert "broker down" in response.content.decode()
    run = RollRun.objects.get()
    assert run.status == "failed" and "broker down" in run.error


def test_an_ended_run_can_be_run_again_from_its_page(admin_client, finished_run):
    center = center_with_voters(3, number=7)
    RollRun.objects.filter(pk=finished_run.pk).update(status="failed", center=center, error="Stalled: ...")

    page = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/change/").content.decode()
    response = admin_client.post(f"/admin/voterroll/rollrun/{finished_run.pk}/again/")

    assert "Run again</button>" in page
    again = RollRun.objects.exclude(pk=finished_run.pk).get()
    assert response.status_code == 302 and response.url == f"/admin/voterroll/rollrun/{again.pk}/change/"
    assert (again.option, again.center, again.status) == (finished_run.option, center, "queued")
    assert again.started_by.username == "admin" and str(finished_run.pk) in again.started_from


def test_the_run_list_fails_a_stalled_run_without_waiting_for_beat(admin_client, settings):
    settings.VOTERROLL_STALLED_AFTER = 60
    stuck = RollRun.objects.create(option=Option.CHORD_BY_STATION, status=RollRun.Status.RUNNING)
    RollRun.objects.filter(pk=stuck.pk).update(progress_dt=timezone.now() - timedelta(minutes=2))

    page = admin_client.get("/admin/voterroll/rollrun/").content.decode()

    assert RollRun.objects.get().status == "failed"
    assert 'http-equiv="refresh"' not in page  # nothing left that can change


@pytest.mark.django_db(transaction=True)
def test_saving_a_center_regenerates_its_rolls_only_when_its_name_changed(admin_client, django_user_model):
    center = center_with_voters(3, number=7)
    same = {"number": 7, "name": center.name}

    admin_client.post(f"/admin/voterroll/pollingcenter/{center.pk}/change/", same)
    assert not RollRun.objects.exists()

    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_pollingcenter"))
    admin_client.force_login(clerk)
    response = admin_client.post(
        f"/admin/voterroll/pollingcenter/{center.pk}/change/", {**same, "name": "New School"}, follow=True
    )

    assert "its rolls show the old name until someone who may start runs" in response.content.decode()
    assert PollingCenter.objects.get().name == "New School" and not RollRun.objects.exists()


def select_centers(admin_client, centers, **confirmed):
    """The center list's "delete selected" action on ``centers``: its confirmation page, or,
    with post="yes", the deletion."""
    return admin_client.post(
        "/admin/voterroll/pollingcenter/",
        {"action": "delete_selected", "_selected_action": [center.pk for center in centers], **confirmed},
    )


# Committed, so that the database checks its foreign keys as it would for a real request.
@pytest.mark.django_db(transaction=True)
def test_deleting_centers_deletes_their_voters_after_a_page_that_counts_them(admin_client):
    replace_voter_data(3000, seed=1)
    assign_stations()
    doomed, kept = list(PollingCenter.objects.order_by("pk")[:2]), PollingCenter.objects.order_by("pk")[2]
    doomed_voters = VoterRegistration.objects.filter(center__in=doomed).count()
    run = RollRun.objects.create(option=Option.CHORD_BY_STATION, status="finished", center=doomed[0])

    with CaptureQueriesContext(connection) as queries:
        page = select_centers(admin_client, doomed)

    content = page.content.decode()
    assert page.status_code == 200 and len(page.content) < 20_000
    assert f"Voters: {doomed_voters}" in content and "Polling centers: 2" in content
    assert f"{VoterRegistration.objects.filter(center=doomed[0]).count():,} voters, with their" in content
    assert len(queries) < 15
    deleted = select_centers(admin_client, doomed, post="yes")
    assert deleted.status_code == 302
    said = [str(message) for message in get_messages(deleted.wsgi_request)]
    assert f"Deleted {doomed_voters:,} voters with the centers, and their stations." in said
    assert list(PollingCenter.objects.all()) == [kept]
    left = VoterRegistration.objects.filter(center=kept).count()
    assert Voter.objects.count() == VoterRegistration.objects.count() == left == 3000 - doomed_voters
    assert set(StationAssignment.objects.values_list("center_id", flat=True)) == {kept.pk}
    run.refresh_from_db()
    assert run.center is None


@pytest.mark.django_db(transaction=True)
def test_deleting_the_last_center_from_its_page_leaves_no_voter_and_runs_say_so(admin_client):
    center = center_with_voters(30, number=7)

    page = admin_client.get(f"/admin/voterroll/pollingcenter/{center.pk}/delete/")
    assert "30 voters, with their registrations and stations" in page.content.decode()
    deleted = admin_client.post(f"/admin/voterroll/pollingcenter/{center.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not Voter.objects.exists() and not VoterRegistration.objects.exists()
    voters_list = admin_client.get("/admin/voterroll/voter/").content.decode()
    assert "0 voters" in voters_list


def test_centers_are_not_deleted_while_a_run_is_active(admin_client):
    center = center_with_voters(3, number=7)
    active = RollRun.objects.create(option=Option.STARMAP)

    page = select_centers(admin_client, [center])
    select_centers(admin_client, [center], post="yes")
    single = admin_client.post(f"/admin/voterroll/pollingcenter/{center.pk}/delete/", {"post": "yes"})

    assert "cannot be deleted now" in page.content.decode()
    assert f"Run {active.pk} (assign_stations_and_generate_lists_with_starmap) is still queued" in (
        page.content.decode()
    )
    assert "cannot be deleted now" in single.content.decode()
    assert (
        PollingCenter.objects.count() == 1 and Voter.objects.count() == VoterRegistration.objects.count() == 3
    )


@pytest.fixture
def on_the_file_system(settings):
    """The file system, whatever storage the pass uses: symbolic links exist only there."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def test_a_symbolic_link_in_a_runs_folder_is_neither_listed_served_nor_zipped(
    admin_client, on_the_file_system, finished_run, tmp_path_factory
):
    secret = tmp_path_factory.mktemp("elsewhere") / "passwd"
    secret.write_text("root:x:0:0")
    folder = Path(settings.MEDIA_ROOT) / finished_run.output_dir
    (folder / "center_7_99.pdf").symlink_to(secret)
    (folder / "metadata.json").symlink_to(secret)
    base = f"/admin/voterroll/rollrun/{finished_run.pk}"

    served = admin_client.get(f"{base}/files/center_7_99.pdf")
    bundle = admin_client.get(f"{base}/files.zip")
    page = admin_client.get(f"{base}/change/").content.decode()

    assert served.status_code == 404
    names = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).namelist()
    bundle.close()
    assert names == ["center_7_1.pdf", "center_7_2.pdf"]
    assert "center_7_99.pdf" not in page and "metadata.json" not in page


def test_a_runs_folder_that_is_a_symbolic_link_serves_nothing(
    admin_client, on_the_file_system, finished_run, tmp_path_factory
):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "center_7_1.pdf").write_bytes(b"%PDF not this run's")
    folder = Path(settings.MEDIA_ROOT) / finished_run.output_dir
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere)

    assert files.run_files(finished_run.output_dir) == []
    assert (
        admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/files/center_7_1.pdf").status_code
        == 404
    )
    assert admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/files.zip").status_code == 404


def test_a_file_swapped_for_a_link_after_listing_is_not_opened(
    on_the_file_system, finished_run, tmp_path_factory
):
    secret = tmp_path_factory.mktemp("elsewhere") / "passwd"
    secret.write_text("root:x:0:0")
    (name,) = [
        found for found in files.run_files(finished_run.output_dir) if found.endswith("center_7_1.pdf")
    ]
    path = Path(settings.MEDIA_ROOT) / name
    path.unlink()
    path.symlink_to(secret)

    with pytest.raises(FileNotFoundError):
        files.read(name)


def test_run_and_center_pages_never_list_storage(admin_client, finished_run, monkeypatch):
    """They reload every 2 s while a run goes, and a big run's folder holds thousands of files:
    a running run lists none, a center's files come from its run's job record."""
    entries = [{"name": f"center_7_{n}.pdf", "pages": 2, "bytes": 2048, "sha256": "0"} for n in (1, 2)]
    files.save(f"{finished_run.output_dir}/metadata.json", json.dumps({"files": entries}).encode())
    center = center_with_voters(3, number=7)
    PollingCenter.objects.filter(pk=center.pk).update(rolls_run=finished_run)
    running = RollRun.objects.create(
        option=Option.CHORD_OF_CHUNKS, status="running", output_dir="voterroll/x"
    )

    def listing(folder):
        raise AssertionError(f"listed {folder}")

    monkeypatch.setattr(files, "run_files", listing)
    run_page = admin_client.get(f"/admin/voterroll/rollrun/{running.pk}/change/").content.decode()
    center_page = admin_client.get(f"/admin/voterroll/pollingcenter/{center.pk}/change/").content.decode()

    assert "Listed once the run has ended" in run_page
    assert f"/admin/voterroll/rollrun/{finished_run.pk}/files/center_7_2.pdf" in center_page
    assert "stations.csv" in center_page
