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


def test_every_lessons_run_button_posts_its_own_lesson(staff_page):
    """Each button, the first one too, sends its lesson to the Run view (not the list's own form)."""
    staff_page.goto("/admin/lessons/lessonrun/")
    # Answered with 204 No Content: the page stays, and nothing is queued.
    staff_page.route("**/admin/lessons/lessonrun/run/", lambda route: route.fulfill(status=204))
    buttons = staff_page.locator("#lessons button")
    assert buttons.count() >= 8
    for index in range(buttons.count()):
        button = buttons.nth(index)
        with staff_page.expect_request(lambda request: request.method == "POST") as sent:
            button.click()
        assert sent.value.url.endswith("/admin/lessons/lessonrun/run/"), (index, sent.value.url)
        assert f"lesson={button.get_attribute('value')}" in sent.value.post_data
