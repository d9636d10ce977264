"""A person creates a report in the admin and watches it run, without reloading the page."""

import re

import pytest
from playwright.sync_api import expect

from reports.models import ReportChord, ReportGroup
from tests.reports_stories import LONG_STILL_RUNNING, IdRange, find_report_id, finished_fires_early


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
