"""Random arguments to every management command: never a traceback, and a refusal changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from project.celery import app
from reports.models import Report, ReportChord, ReportGroup
from voterroll.models import PollingCenter, RollRun, Voter

# Numbers out of range, or small enough to run in a moment (a valid N of ten million would too,
# in minutes); words that mean something to some command; anything else.
out_of_range = st.one_of(st.integers(-(10**13), 0), st.integers(10_000_001, 10**13))
numbers = st.one_of(out_of_range, st.integers(1, 40), st.sampled_from([1_001, 86_401])).map(str)
words = st.sampled_from(["1", "5b", "5c", "error", "group", "chord", "ar_AA", "en_US", "../x", "", " ", "²"])
flags = st.sampled_from(["--seed", "--locale", "--kind", "--count", "--wait", "--username", "--email", "--"])
values = st.one_of(numbers, words, st.text(max_size=12))
# Some values where a command takes its positional ones, then options each with a value.
arguments = st.builds(
    lambda positional, options: [*positional, *(part for option in options for part in option)],
    st.lists(values, max_size=2),
    st.lists(st.tuples(flags, values), max_size=3),
)


def snapshot():
    return (
        list(Voter.objects.values_list("number", "name")),
        list(PollingCenter.objects.values_list("number", "name")),
        RollRun.objects.count(),
        ReportGroup.objects.count() + ReportChord.objects.count(),
        list(get_user_model().objects.values_list("username", flat=True)),
    )


@pytest.fixture
def nothing_sent(monkeypatch):
    """Commands that queue work send nothing to the broker here: no worker would run it."""
    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)
    monkeypatch.setattr(Report, "send_canvas", lambda report: None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "command", ["create_fake_voter_data", "queue_task", "create_reports", "makesuperuser"]
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=arguments)
# Inputs that once ended in a traceback, tried every time besides the drawn ones.
@example(argv=["--username", ""])
@example(argv=["--username", "   "])
@example(argv=["100000000"])
@example(argv=["20", "--locale", ""])
@example(argv=["--kind", "group", "--count", "1000000000000"])
def test_a_command_refuses_what_it_cannot_do_with_a_message_and_changes_nothing(command, argv, nothing_sent):
    # Each example from the same start: some voters, no account, no run, no report.
    get_user_model().objects.all().delete()
    RollRun.objects.all().delete()
    ReportGroup.objects.all().delete()
    ReportChord.objects.all().delete()
    if Voter.objects.count() != 20:
        call_command("create_fake_voter_data", "20", stdout=StringIO(), stderr=StringIO())
    before = snapshot()
    try:
        call_command(command, *argv, stdout=StringIO(), stderr=StringIO())
    except CommandError as error:
        refusal = str(error)
    else:
        return
    if "goes on" in refusal:
        return  # not a refusal: queued, and the wait for it ended first (queue_task --wait)
    assert refusal.strip() and "Traceback" not in refusal
    assert snapshot() == before, f"{command} {argv} refused ({refusal}) but changed data"
