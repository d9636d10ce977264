"""A person creates a report in the admin and watches it run, without reloading the page."""

import re

import pytest
from django.db import transaction
from playwright.sync_api import expect

from reports.models import ReportChord, ReportGroup
from tests.browser.conftest import ARTIFACTS
from tests.reports_stories import (
    LONG_STILL_RUNNING,
    IdRange,
    find_report_id,
    find_report_ids,
    finished_fires_early,
    long_and_sure,
)


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_a_new_report_page_refreshes_itself_until_the_report_is_done(staff_page, model):
    staff_page.goto(f"/admin/reports/{model._meta.model_name}/add/")
    staff_page.get_by_role("button", name="Save and continue editing").click()

    report = model.objects.get()
    expect(staff_page).to_have_url(re.compile(rf"/{report.pk}/change/$"))
    # Only the page's own refresh can bring the outcome: nothing here reloads it.
    expect(staff_page.locator("div.field-status")).to_contain_text(
        re.compile("Finished|Error"), timeout=30_000
    )
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0, timeout=30_000)
    expect(staff_page.locator("svg.report-timeline rect.attempt")).not_to_have_count(0)
    expect(staff_page.locator(".field-callbacks")).to_contain_text("“error” ran")


def test_a_group_report_page_marks_its_finished_callback_firing_before_the_others_end(staff_page):
    report_id = find_report_id("group", finished_fires_early, start=IdRange.BROWSER_GROUP_FINISHED_EARLY)
    ReportGroup.objects.create(pk=report_id)

    staff_page.goto(f"/admin/reports/reportgroup/{report_id}/change/")

    callbacks = staff_page.locator(".field-callbacks")
    expect(callbacks).to_contain_text(LONG_STILL_RUNNING, timeout=30_000)
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0, timeout=30_000)
    timeline = staff_page.locator("svg.report-timeline")
    marker_x = float(timeline.locator("line.marker-finished:not(.key)").get_attribute("x1"))
    bar_ends = [
        float(bar.get_attribute("x")) + float(bar.get_attribute("width"))
        for bar in timeline.locator("rect.attempt").all()
    ]
    assert sum(end > marker_x for end in bar_ends) >= 1  # long's last attempt, at least, runs past it


def test_a_report_page_says_what_each_task_does_while_others_keep_the_worker_busy(staff_page):
    # Six chords at once on the worker's 4 processes: the last one's long waits for a free one.
    ids = find_report_ids("chord", long_and_sure, start=IdRange.BROWSER_PROCESSING, count=6)
    with transaction.atomic():
        for report_id in ids:
            ReportChord.objects.create(pk=report_id)

    staff_page.goto(f"/admin/reports/reportchord/{ids[-1]}/change/")

    tasks = staff_page.locator("ul.report-tasks")
    expect(tasks.locator("li.task-queued").first).to_contain_text("waiting in the queue since")
    expect(tasks.locator("li.task-pending")).to_contain_text(["runs once all three tasks succeed"])
    expect(staff_page.locator("svg.report-timeline rect.queue-wait")).not_to_have_count(0)  # growing
    ARTIFACTS.mkdir(exist_ok=True)
    staff_page.screenshot(path=ARTIFACTS / "report_page_while_processing.png", full_page=True)
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0, timeout=30_000)
    expect(tasks.locator("li.task-done")).to_have_count(4)  # short, medium, long, the body
    expect(staff_page.locator("svg.report-timeline rect.queue-wait")).not_to_have_count(0)
