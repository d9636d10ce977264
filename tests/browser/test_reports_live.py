"""A person creates a report in the admin and watches it run, without reloading the page."""
import re

import pytest
from playwright.sync_api import expect

from reports.models import ReportChord, ReportGroup


@pytest.mark.parametrize("model", [ReportGroup, ReportChord])
def test_a_new_report_page_refreshes_itself_until_the_report_is_done(staff_page, model):
    staff_page.goto(f"/admin/reports/{model._meta.model_name}/add/")
    staff_page.get_by_role("button", name="Save and continue editing").click()

    report = model.objects.get()
    expect(staff_page).to_have_url(re.compile(rf"/{report.pk}/change/$"))
    # Only the page's own refresh can bring the outcome: nothing here reloads it.
    expect(staff_page.locator("div.field-status")).to_contain_text(re.compile("Finished|Error"), timeout=30_000)
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0, timeout=30_000)
    expect(staff_page.locator("svg.report-timeline rect.attempt")).not_to_have_count(0)
    expect(staff_page.locator(".field-callbacks")).to_contain_text("“error” ran")
