"""Browser tests: Playwright drives Debian's Chromium against Django's live server.

No browser download (that fails on this network): the plugin launches /usr/bin/chromium.
Without it these tests are skipped with a message; REQUIRE_BROWSER=1 (as CI sets) fails instead.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"

# Playwright's sync API keeps an event loop running in this thread, so Django sees an async
# context and refuses ORM calls; the test's own ORM calls are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} not found: install it with `apt-get install -y chromium`"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(message)
    skip = pytest.mark.skip(reason=message)
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-sync",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


@pytest.fixture
def screenshot(page, request):
    """Save the page as the test left it under test-artifacts/, for a person to look at; and,
    called with a label, as it is at that moment."""
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w-]+", "_", request.node.name)

    def take(label):
        page.screenshot(path=ARTIFACTS / f"{name}-{label}.png", full_page=True)

    yield take
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


@pytest.fixture
def admin_page(page, live_server, admin_user, screenshot):
    """A page logged in to the admin as a superuser, for pages that queue no task."""
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    return page


@pytest.fixture
def staff_page(worker, admin_page):
    """A page logged in to the admin as a superuser, with a real worker running."""
    return admin_page
