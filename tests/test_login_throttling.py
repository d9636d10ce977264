"""Wrong passwords lock a login out (django-axes), and an admin can lift the lock-out."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user("clerk", password="right-password", is_staff=True)


def log_in(client, password):
    """True if the admin let the clerk in."""
    client.post(LOGIN, {"username": "clerk", "password": password, "next": "/admin/"})
    return "_auth_user_id" in client.session


def locked_out(client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        assert not log_in(client, f"guess-{attempt}")
    response = client.post(LOGIN, {"username": "clerk", "password": "right-password"})
    assert response.status_code == 429 and b"locked" in response.content.lower()
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_lock_out_the_right_one_until_an_admin_lifts_it(clerk, django_user_model):
    client = Client()
    locked_out(client)
    # From another address too: the username is locked, not only the address.
    assert not log_in(Client(REMOTE_ADDR="10.0.0.7"), "right-password")

    boss = Client()
    boss.force_login(django_user_model.objects.create_superuser("boss", password="x"))
    listed = boss.get("/admin/axes/accessattempt/?locked_out=yes&q=clerk").content.decode()
    assert "clerk" in listed
    # The list's bulk delete of the clerk's attempts, as an admin would lift it.
    attempts = list(AccessAttempt.objects.filter(username="clerk").values_list("pk", flat=True))
    boss.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="clerk").exists()

    assert log_in(client, "right-password")


def test_the_axes_reset_command_lifts_a_lock_out(clerk):
    client = Client()
    locked_out(client)

    call_command("axes_reset_username", "clerk")

    assert log_in(client, "right-password")


def test_a_few_typos_before_the_right_password_lock_nobody_out(clerk):
    client = Client()
    for _ in range(3):
        for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            assert not log_in(client, f"typo-{attempt}")
        assert log_in(client, "right-password")  # and forgets the typos (AXES_RESET_ON_SUCCESS)
        client.logout()
