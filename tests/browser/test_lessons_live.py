"""Staff run a lesson from the admin and watch its verdict and timeline arrive."""

from playwright.sync_api import expect

from lessons.models import LessonRun
from tests.browser.conftest import ARTIFACTS


def test_staff_run_a_lesson_from_the_admin_and_see_its_verdict_and_timeline(staff_page):
    staff_page.goto("/admin/lessons/lessonrun/")
    expect(staff_page.locator("#lessons")).to_contain_text("Never wait for a task inside a task")
    staff_page.screenshot(path=ARTIFACTS / "lessons_list.png", full_page=True)
    staff_page.get_by_role("button", name="Run errbacks").click()

    expect(staff_page.locator(".messagelist")).to_contain_text("Queued lesson run")
    # The run's page reloads by itself until the lesson has its verdict.
    expect(staff_page.locator(".field-status .readonly")).to_have_text("Confirmed", timeout=60_000)
    expect(staff_page.locator(".field-verdict")).to_contain_text("the group's link_error ran 2 times")
    timeline = staff_page.locator("svg.lesson-timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("rect.bar.errback")).to_have_count(3)
    expect(timeline.locator("rect.bar.failed")).to_have_count(4)
    run = LessonRun.objects.get()
    assert run.started_by.username == "admin" and run.lesson == "errbacks"
    expect(staff_page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
