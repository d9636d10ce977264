"""Staff start a voter-roll run in the admin, watch it finish and download its PDFs."""
import re
import zipfile

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from voterroll.fake_data import replace_voter_data
from voterroll.models import RollRun


def test_staff_start_option_5b_watch_it_finish_and_download_its_pdfs(staff_page):
    replace_voter_data(1200, seed=3)
    staff_page.goto("/admin/voterroll/rollrun/")
    staff_page.get_by_role("link", name="Start a run").click()
    staff_page.get_by_label("Option").select_option(label="5b · chord by station")
    staff_page.get_by_role("button", name="Queue it").click()

    expect(staff_page.locator(".messagelist")).to_contain_text("Queued Run")
    # The list reloads by itself while the run is active: no reload here.
    row = staff_page.locator("#result_list tbody tr").first
    expect(row.locator("td.field-status")).to_have_text("Finished", timeout=60_000)
    run = RollRun.objects.get()
    expect(row.locator("td.field-pages")).to_have_text(str(run.pages))
    assert run.pages > 0 and run.stations >= 3
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0)

    row.locator("th a").click()
    first_pdf = staff_page.locator(".field-files a").first
    with staff_page.expect_download() as pdf_download:
        first_pdf.click()
    assert re.fullmatch(r"center_\d+_\d+\.pdf", pdf_download.value.suggested_filename)
    assert pdf_download.value.path().read_bytes().startswith(b"%PDF-")

    staff_page.goto("/admin/voterroll/rollrun/")
    with staff_page.expect_download() as zip_download:
        row.get_by_role("link", name="zip").click()
    with zipfile.ZipFile(zip_download.value.path()) as bundle:
        assert len(bundle.namelist()) == run.stations


def test_a_user_without_staff_rights_cannot_open_a_download(page, live_server, worker, screenshot):
    get_user_model().objects.create_user("visitor", password="visitor-password")
    run = RollRun.objects.create(option="all_in_one", status="finished")

    page.goto(f"/admin/voterroll/rollrun/{run.pk}/pdfs.zip")
    page.get_by_label("Username").fill("visitor")
    page.get_by_label("Password").fill("visitor-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".errornote")).to_contain_text("staff account")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/voterroll/rollrun/\d+/pdfs\.zip$"))
