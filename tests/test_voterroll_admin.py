"""Admin pages render; runs start from a form; PDFs download only for staff."""
import io
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.voterroll_utils import center_with_voters
from voterroll.models import Option, RollRun
from voterroll.pdf import write_station_pdf
from voterroll.tasks import OPTION_TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    started = timezone.now() - timedelta(seconds=5)
    run = RollRun.objects.create(
        option=Option.CHORD_BY_STATION, status=RollRun.Status.FINISHED, started_at=started,
        finished_at=started + timedelta(seconds=3.5), centers=1, stations=2, pages=2,
        output_dir="voterroll/run-1-test",
    )  # fmt: skip
    for station in (1, 2):
        write_station_pdf(run.output_path / f"center_7_{station}.pdf", 7, "School", station, [(1, "A")])
    return run


def test_run_list_shows_duration_pages_and_a_duration_chart_by_option(admin_client, finished_run):
    response = admin_client.get("/admin/voterroll/rollrun/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "3.50 s" in content
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="voterroll-duration-chart"' in content
    assert "5b · chord by station" in content and "3.50 s · 1 run(s)" in content
    assert "/admin/voterroll/rollrun/start/" in content


def test_run_detail_and_center_and_voter_pages_render(admin_client, finished_run):
    center = center_with_voters(3, center_id=7)

    for url in [
        f"/admin/voterroll/rollrun/{finished_run.pk}/change/",
        "/admin/voterroll/pollingcenter/",
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        "/admin/voterroll/voter/?q=Voter",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    detail = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/change/").content.decode()
    assert f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs/center_7_2.pdf" in detail


def test_staff_download_one_pdf_or_all_as_a_zip(admin_client, finished_run):
    one = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs/center_7_1.pdf")
    bundle = admin_client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs.zip")

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
        f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs/center_7_1.pdf",
        f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs.zip",
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
    (finished_run.output_path.parent / "secret.pdf").write_bytes(b"%PDF other")

    base = f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs"
    for name in ["secret.pdf", "center_7_9.pdf"]:
        assert admin_client.get(f"{base}/{name}").status_code == 404
    # A name with a slash does not even match the download URL.
    assert admin_client.get(f"{base}/..%2Fsecret.pdf").status_code != 200


def test_staff_with_view_permission_only_can_download_but_not_start(
    client, django_user_model, finished_run
):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_rollrun"))
    client.force_login(clerk)

    assert client.get("/admin/voterroll/rollrun/start/").status_code == 403
    response = client.get(f"/admin/voterroll/rollrun/{finished_run.pk}/pdfs.zip")
    response.close()  # last: closing a response signals request_finished, which closes the connection
    assert response.status_code == 200


def test_start_form_queues_a_run_of_the_chosen_option(admin_client):
    center_with_voters(3)

    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": Option.STARMAP})

    assert response.status_code == 302 and response.url == "/admin/voterroll/rollrun/"
    run = RollRun.objects.get()
    assert (run.option, run.status, run.center) == (Option.STARMAP, "queued", None)
    assert admin_client.get("/admin/voterroll/rollrun/start/").status_code == 200


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
    center = center_with_voters(3, center_id=7)
    RollRun.objects.create(option=Option.STARMAP)

    response = admin_client.post(
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        {"center_id": 7, "center_name": "New Name School"},
        follow=True,
    )

    center.refresh_from_db()
    assert center.center_name == "New Name School"
    assert "its rolls were not regenerated" in response.content.decode()
    assert RollRun.objects.count() == 1


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    for task in OPTION_TASKS.values():
        monkeypatch.setattr(task, "delay", refuse)


@pytest.mark.django_db(transaction=True)
def test_saving_a_center_while_the_broker_is_down_keeps_the_change_and_warns(admin_client, broker_down):
    center = center_with_voters(3, center_id=7)

    response = admin_client.post(
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        {"center_id": 7, "center_name": "New Name School"},
        follow=True,
    )

    assert response.status_code == 200
    assert "its rolls were not regenerated" in response.content.decode()
    assert "broker down" in response.content.decode()
    center.refresh_from_db()
    assert center.center_name == "New Name School"
    assert RollRun.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_start_form_shows_the_broker_refusing_the_run(admin_client, broker_down):
    center_with_voters(3)

    response = admin_client.post("/admin/voterroll/rollrun/start/", {"option": Option.ALL_IN_ONE})

    assert response.status_code == 200
    assert "broker down" in response.content.decode()
    run = RollRun.objects.get()
    assert run.status == "failed" and "broker down" in run.error
