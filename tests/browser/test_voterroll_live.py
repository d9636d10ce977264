"""Staff start a voter-roll run in the admin, watch it finish and download its PDFs."""

import re
import time
import zipfile
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from voterroll.fake_data import replace_voter_data
from voterroll.models import PollingCenter, RollRun, Voter, VoterRegister, VoterRegistration
from voterroll.options import Option


def test_staff_start_option_5b_watch_it_finish_and_download_its_pdfs(staff_page):
    replace_voter_data(1200, seed=3)
    staff_page.goto("/admin/voterroll/rollrun/")
    staff_page.get_by_role("link", name="Start a run").click()
    staff_page.get_by_label("5b · chord by station").check()
    staff_page.get_by_role("button", name="Queue it").click()

    expect(staff_page.locator(".messagelist")).to_contain_text("Queued Run")
    # Its own page, which reloads by itself while the run is active: no reload here.
    expect(staff_page.locator(".field-status .readonly")).to_have_text("Finished", timeout=60_000)
    staff_page.goto("/admin/voterroll/rollrun/")
    row = staff_page.locator("#result_list tbody tr").first
    expect(row.locator("td.field-state")).to_have_text("Finished", timeout=60_000)
    run = RollRun.objects.get()
    expect(row.locator("td.field-pages")).to_have_text(str(run.pages))
    assert run.pages > 0 and run.stations >= 3
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0)

    row.locator("th a").click()
    staff_page.locator("summary", has_text="PDFs").click()  # folded: a big run has thousands
    first_pdf = staff_page.locator(".field-roll_files a", has_text=re.compile(r"^center_\d+_\d+\.pdf$")).first
    with staff_page.expect_download() as pdf_download:
        first_pdf.click()
    assert re.fullmatch(r"center_\d+_\d+\.pdf", pdf_download.value.suggested_filename)
    assert pdf_download.value.path().read_bytes().startswith(b"%PDF-")

    staff_page.goto("/admin/voterroll/rollrun/")
    with staff_page.expect_download() as zip_download:
        row.get_by_role("link", name="zip").click()
    with zipfile.ZipFile(zip_download.value.path()) as bundle:
        names = bundle.namelist()
    # Each station's roll and sign, and the run's job record: the CSV, metadata.json and its digest.
    assert len(names) == 2 * run.stations + 3 and "metadata.json" in names


def test_the_start_form_says_what_each_option_does_and_teaches_beside_its_button(admin_page):
    page = admin_page
    replace_voter_data(1200, seed=3)
    page.goto("/admin/voterroll/rollrun/start/")

    choices = page.locator(".run-options li")
    expect(choices).to_have_count(len(Option))
    for choice, option in zip(choices.all(), Option, strict=True):
        expect(choice.get_by_label(option.display)).to_be_visible()
        expect(choice).to_contain_text(f"Does: {option.does}")
        expect(choice).to_contain_text(f"Teaches: {option.teaches}")
    expect(page.get_by_label(Option.ALL_IN_ONE.display)).to_be_checked()
    expect(page.locator("#content")).to_contain_text("prints 1,200 registered voters in 1 polling center.")
    page.get_by_label(Option.CHORD_OF_CHUNKS.display).check()
    expect(page.get_by_label(Option.ALL_IN_ONE.display)).not_to_be_checked()


def test_a_user_without_staff_rights_cannot_open_a_download(page, live_server, worker, screenshot):
    get_user_model().objects.create_user("visitor", password="visitor-password")
    run = RollRun.objects.create(option="all_in_one", status="finished")

    page.goto(f"/admin/voterroll/rollrun/{run.pk}/files.zip")
    page.get_by_label("Username").fill("visitor")
    page.get_by_label("Password").fill("visitor-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".errornote")).to_contain_text("staff account")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/voterroll/rollrun/\d+/files\.zip$"))


def test_a_run_page_draws_each_task_in_the_lane_of_its_worker_process(staff_page):
    replace_voter_data(8000, seed=4)
    staff_page.goto("/admin/voterroll/rollrun/start/")
    staff_page.get_by_label("5c · chord over chunks of stations").check()
    staff_page.get_by_role("button", name="Queue it").click()
    expect(staff_page.locator(".field-status .readonly")).to_have_text("Finished", timeout=60_000)

    timeline = staff_page.locator("svg.run-timeline")
    expect(timeline).to_be_visible()
    run = RollRun.objects.get()
    chunks = run.tasks - 3  # the option's own task, its assigner and the chord body
    expect(timeline.locator("rect.bar.batch")).to_have_count(chunks)
    expect(timeline.locator("rect.bar.orchestrator")).to_have_count(1)
    expect(timeline.locator("rect.bar.assigner")).to_have_count(1)
    expect(timeline.locator("rect.bar.callback")).to_have_count(1)
    assert chunks > 1 and timeline.bounding_box()["width"] > 600
    timeline.scroll_into_view_if_needed()


def test_a_running_run_shows_its_progress_and_a_growing_timeline_before_it_ends(staff_page, screenshot):
    replace_voter_data(60_000, seed=5)
    staff_page.goto("/admin/voterroll/rollrun/start/")
    staff_page.get_by_label("5b · chord by station").check()
    staff_page.get_by_role("button", name="Queue it").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("its page shows it as it runs")

    readings, bars = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = staff_page.locator(".field-status .readonly").inner_text()
        if status == "Finished":
            break
        progress = staff_page.locator("#run-progress p")
        if status == "Running" and progress.count() and "stations" in progress.inner_text():
            drawn = staff_page.locator("svg.run-timeline rect.bar").count()
            if drawn and (not readings or progress.inner_text() != readings[-1]):
                readings.append(progress.inner_text())
                bars.append(drawn)
                if len(readings) == 2:
                    screenshot("run-in-progress")
        staff_page.reload()

    run = RollRun.objects.get()
    assert run.status == "finished", run.error
    assert len(readings) >= 2, readings  # two different readings while it ran
    assert bars[-1] >= bars[0] > 0 and bars[-1] < run.stations + 2  # a partial timeline, growing
    assert re.search(r"[\d,]+ of [\d,]+ stations · [\d,]+ of [\d,]+ pages", readings[0])
    staff_page.reload()
    expect(staff_page.locator("#run-progress")).to_have_count(0)
    expect(staff_page.locator("svg.run-timeline rect.bar")).to_have_count(run.stations + 2)
    screenshot("run-finished")


def test_the_run_list_compares_durations_within_a_data_size_and_shows_each_runs_size(admin_page):
    page = admin_page
    now = timezone.now()
    for option, voters, pages, seconds, ago in [
        (Option.ALL_IN_ONE, 20_000, 620, 1.47, 600),
        (Option.CHORD_OF_CHUNKS, 20_000, 620, 0.62, 500),
        *[(Option.CHORD_BY_STATION, 5_000, 160, seconds, 100) for seconds in (1.10, 1.13, 1.16)],
    ]:
        finished_dt = now - timedelta(seconds=ago)
        RollRun.objects.create(
            option=option,
            status="finished",
            started_dt=finished_dt - timedelta(seconds=seconds),
            finished_dt=finished_dt,
            voters=voters,
            centers=voters // 1000,
            stations=pages // 20,
            pages=pages,
        )
    page.goto("/admin/voterroll/rollrun/")

    chart = page.locator(".voterroll-duration-chart")
    expect(chart.locator("text.size")).to_have_text(
        ["5,000 voters, 160 pages · the latest", "20,000 voters, 620 pages"]
    )
    expect(chart).to_contain_text("1.13 s · 142 pages/s · 3 runs")
    expect(page.locator("#result_list th.column-voters")).to_have_text("Voters")
    expect(page.locator("#result_list td.field-pages_per_second").first).to_have_text("138")


def test_deleting_centers_shows_their_voter_counts_and_deletes_the_voters_with_them(admin_page):
    page = admin_page
    replace_voter_data(3000, seed=1)
    doomed = list(PollingCenter.objects.order_by("number")[:2])
    voters = {center.pk: center.registrations.count() for center in doomed}
    page.goto("/admin/voterroll/pollingcenter/")

    for center in doomed:
        page.locator(f'input[name="_selected_action"][value="{center.pk}"]').check()
    page.locator('select[name="action"]').select_option("delete_selected")
    page.get_by_role("button", name="Go").click()

    for center in doomed:
        expect(page.locator("#content")).to_contain_text(
            f"{center}\n{voters[center.pk]:,} voters, with their registrations and stations"
        )
    expect(page.locator("#content")).to_contain_text(f"Voters: {sum(voters.values())}")
    page.screenshot(path=ARTIFACTS / "delete_centers_confirmation.png", full_page=True)
    page.get_by_role("button", name="Yes, I\u2019m sure").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Deleted {sum(voters.values()):,} voters")
    assert Voter.objects.count() == VoterRegistration.objects.count() == 3000 - sum(voters.values())


def test_staff_import_a_register_and_watch_its_page_end_with_the_counts(staff_page):
    rows = "".join(
        f"{n};Voter {n};{'F' if n % 2 else 'M'};{n % 4 + 1};School {n % 4}\n" for n in range(1, 3001)
    )
    register = ("voter_number;name;gender;center_number;center_name\n" + rows).encode()
    staff_page.goto("/admin/voterroll/voterregister/")
    staff_page.get_by_role("link", name="Import", exact=True).click()
    staff_page.get_by_label("Register").set_input_files(
        {"name": "register.csv", "mimeType": "text/csv", "buffer": register}
    )
    staff_page.get_by_role("button", name="Upload and import").click()

    expect(staff_page.locator(".messagelist")).to_contain_text("Uploaded Register")
    # The register's page reloads by itself until the import has ended.
    expect(staff_page.locator(".field-status .readonly")).to_have_text("Imported", timeout=60_000)
    expect(staff_page.locator(".field-voters .readonly")).to_have_text("3000")
    expect(staff_page.locator(".field-centers .readonly")).to_have_text("4")
    expect(staff_page.locator(".field-progress .readonly")).to_contain_text("imported in")
    expect(staff_page.locator(".field-problems .readonly")).to_have_text("none")
    assert Voter.objects.count() == 3000
    VoterRegister.objects.get().file.delete(save=False)  # as staff deleting it would
