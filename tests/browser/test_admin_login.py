from playwright.sync_api import expect


def test_staff_logs_in_and_lands_on_the_admin_index(staff_page):
    expect(staff_page.get_by_role("heading", name="Groups, chords and voter rolls")).to_be_visible()
    expect(staff_page.get_by_role("button", name="Log out")).to_be_visible()


def test_wrong_password_is_refused_with_a_message(page, live_server, admin_user, screenshot):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".errornote")).to_contain_text("enter the correct username and password")
