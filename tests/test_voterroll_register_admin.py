"""Staff upload a register in the admin; a real worker imports it from storage; the page tells
how it went: counts, or the problems by line. Too big a file or a busy moment is a form error."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.utils import wait_until
from tests.voterroll_utils import HEADER, voter_data
from voterroll.fake_data import replace_voter_data
from voterroll.models import RollRun, VoterRegister

IMPORT_URL = "/admin/voterroll/voterregister/import/"


def upload(client, content, name="register.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content, "text/csv")})


def ended(register, timeout=60):
    """``register`` once its import has ended, fresh from the database."""
    return wait_until(
        lambda: VoterRegister.objects.filter(pk=register.pk).exclude(status__in=VoterRegister.ACTIVE).first(),
        timeout=timeout,
        message=f"{register} did not end",
    )


@pytest.fixture
def stored():
    """Uploaded files are removed from storage after the test, as staff deleting them would."""
    yield
    for register in VoterRegister.objects.all():
        register.file.delete(save=False)


def test_staff_upload_a_register_and_its_page_shows_the_counts_once_a_worker_imported_it(
    admin_client, worker, stored
):
    rows = "".join(
        f"{n};Voter {n};{'ذكر' if n % 2 else 'أنثى'};{n % 7 + 1};مدرسة {n % 7}\n" for n in range(1, 2001)
    )
    response = upload(admin_client, ("\ufeffرقم الناخب;الاسم;الجنس;رقم المركز;اسم المركز\n" + rows).encode())

    register = VoterRegister.objects.get()
    assert (
        response.status_code == 302
        and response.url == f"/admin/voterroll/voterregister/{register.pk}/change/"
    )
    register = ended(register)
    assert (register.status, register.voters, register.centers) == ("imported", 2000, 7)
    assert len(voter_data()) == 2000
    page = admin_client.get(response.url).content.decode()
    assert "Imported" in page and "2000" in page and "imported in" in page
    assert 'http-equiv="refresh"' not in page  # nothing left to wait for
    listing = admin_client.get("/admin/voterroll/voterregister/").content.decode()
    assert IMPORT_URL in listing and "register.csv" in listing


def test_a_wrong_register_is_refused_by_the_worker_with_its_problems_by_line(admin_client, worker, stored):
    replace_voter_data(20, seed=1)
    before = voter_data()

    upload(admin_client, (HEADER + "1,Ali,M,5,School\n1,Mona,F,5,School\n2,Sara,?,5,School\n").encode())

    register = ended(VoterRegister.objects.get())
    assert register.status == "refused"
    page = admin_client.get(f"/admin/voterroll/voterregister/{register.pk}/change/").content.decode()
    assert "line 3: voter number 1 is used again, first on line 2" in page
    assert "line 4: unknown gender &#x27;?&#x27;" in page
    assert voter_data() == before


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_a_form_error_and_nothing_is_stored(admin_client, settings):
    settings.VOTERROLL_REGISTER_MAX_BYTES = 1000

    response = upload(admin_client, HEADER.encode() + b"1,Ali,M,5,School\n" * 80)

    assert response.status_code == 200
    assert (
        "register.csv is 1.4\xa0KB; a register may be at most 1000\xa0bytes (VOTERROLL_REGISTER_MAX_BYTES)."
        in (response.context["form"].errors["file"][0])
    )
    assert not VoterRegister.objects.exists()


@pytest.mark.django_db
def test_an_upload_while_a_run_is_active_is_a_form_error(admin_client):
    RollRun.objects.create(option="all_in_one", status="running")

    response = upload(admin_client, (HEADER + "1,Ali,M,5,School\n").encode())

    assert "Voter data cannot be replaced now: Run" in str(response.context["form"].non_field_errors())
    assert not VoterRegister.objects.exists()


@pytest.mark.django_db
def test_only_staff_with_the_permission_may_import(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_voterregister"))
    client.force_login(clerk)

    assert client.get(IMPORT_URL).status_code == 403
    assert IMPORT_URL not in client.get("/admin/voterroll/voterregister/").content.decode()

    clerk.user_permissions.add(Permission.objects.get(codename="add_voterregister"))
    assert client.get(IMPORT_URL).status_code == 200


@pytest.mark.django_db
def test_an_upload_whose_worker_is_gone_is_failed_so_that_it_keeps_no_later_one_out(admin_client):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    stalled = VoterRegister.objects.create(file="voterroll/registers/x/old.csv", status="checking")
    VoterRegister.objects.filter(pk=stalled.pk).update(started_dt=an_hour_ago)
    waiting = VoterRegister.objects.create(file="voterroll/registers/y/new.csv")

    admin_client.get("/admin/voterroll/voterregister/")

    stalled.refresh_from_db()
    assert stalled.status == "failed"
    assert stalled.outcome == "Stalled: no worker finished its import within 30 minutes."
    waiting.refresh_from_db()
    assert waiting.status == "queued"  # uploaded just now: its worker may still come
