"""The management commands: fake data at the right shape, runs queued, bad input refused."""

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from project.celery import app
from tests.utils import BASE_DIR
from tests.voterroll_utils import wait_for_outcome
from voterroll import runs
from voterroll.fake_data import person_names
from voterroll.models import PollingCenter, RollRun, Voter, VoterRegistration
from voterroll.runs import fail_stalled
from voterroll.shaping import needs_rtl
from voterroll.tasks import ASSIGNING, LONG_RUNNING, import_register


@pytest.mark.django_db
def test_fake_data_replaces_all_voters_across_uneven_school_like_centers():
    call_command("create_fake_voter_data", "50")
    call_command("create_fake_voter_data", "3000", yes=True)

    assert Voter.objects.count() == VoterRegistration.objects.count() == 3000
    assert Voter.objects.values("number").distinct().count() == 3000
    sizes = Counter(VoterRegistration.objects.values_list("center_id", flat=True))
    assert PollingCenter.objects.count() == len(sizes) == 3
    assert len(set(sizes.values())) > 1 and min(sizes.values()) >= 1
    names = PollingCenter.objects.values_list("name", flat=True)
    assert all("School" in name for name in names)


@pytest.mark.django_db
def test_fake_data_is_the_same_for_the_same_seed():
    call_command("create_fake_voter_data", "200", seed=5)
    first = list(Voter.objects.order_by("pk").values_list("number", "name"))

    call_command("create_fake_voter_data", "200", seed=5, yes=True)

    assert list(Voter.objects.order_by("pk").values_list("number", "name")) == first


@pytest.mark.django_db
def test_fake_data_in_arabic_gives_every_voter_a_gender_and_a_first_name_of_that_gender():
    call_command("create_fake_voter_data", "2000", "--locale", "ar_AA")

    provider = person_names("ar_AA")
    genders = Counter(Voter.objects.values_list("gender", flat=True))
    assert set(genders) == {"F", "M"} and 900 < genders["F"] < 1100
    for gender, first_names in [("F", provider.first_names_female), ("M", provider.first_names_male)]:
        names = Voter.objects.filter(gender=gender).values_list("name", flat=True)
        assert all(needs_rtl(name) for name in names)
        assert all(any(name.startswith(f"{first} ") for first in first_names) for name in names)
    assert all(needs_rtl(name) for name in PollingCenter.objects.values_list("name", flat=True))


@pytest.mark.django_db
def test_fake_data_mixes_several_locales():
    call_command("create_fake_voter_data", "1000", "--locale", "ar_AA,en_US", "--locale", "ru_RU")

    scripts = Counter(
        "arabic" if needs_rtl(name) else "cyrillic" if re.search("[\u0400-\u04ff]", name) else "latin"
        for name in Voter.objects.values_list("name", flat=True)
    )
    assert set(scripts) == {"arabic", "latin", "cyrillic"} and min(scripts.values()) > 250


@pytest.mark.django_db
def test_fake_data_refuses_a_locale_faker_has_no_names_for_and_changes_nothing():
    call_command("create_fake_voter_data", "20")

    with pytest.raises(CommandError, match="Faker has no person names for locale 'xx_XX'"):
        call_command("create_fake_voter_data", "30", "--locale", "ar_AA,xx_XX")

    assert Voter.objects.count() == 20


@pytest.mark.django_db
def test_a_run_is_refused_while_voters_have_no_gender():
    call_command("create_fake_voter_data", "20")
    Voter.objects.filter(pk=1).update(gender="")  # as a voter made before genders were recorded

    with pytest.raises(CommandError, match="Some voters have no gender"):
        call_command("queue_task", "5b")

    assert not RollRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["0", "-3", "abc", "1.5", "", "²", "100000000", "1000000000000"])
def test_fake_data_needs_a_whole_number_within_the_limit_and_changes_nothing_otherwise(bad):
    call_command("create_fake_voter_data", "20")

    with pytest.raises(CommandError, match=r"N: must be a whole number from 1 to 10,000,000, not "):
        call_command("create_fake_voter_data", bad)

    assert Voter.objects.count() == 20


@pytest.mark.django_db
def test_fake_data_interrupted_says_so_and_leaves_the_data_as_it_was(monkeypatch):
    call_command("create_fake_voter_data", "20")
    before = list(Voter.objects.values_list("number", flat=True))

    def interrupt(rows):
        raise KeyboardInterrupt

    monkeypatch.setattr("voterroll.loading.insert", lambda *args, **kwargs: interrupt(args))
    with pytest.raises(CommandError, match="Interrupted: the voter data is as it was") as refusal:
        call_command("create_fake_voter_data", "500", yes=True)

    assert refusal.value.returncode == 130
    assert list(Voter.objects.values_list("number", flat=True)) == before


class Terminal(StringIO):
    """Typed answers, on what the command takes for a terminal."""

    def isatty(self):
        return True


@pytest.mark.django_db
def test_fake_data_without_a_terminal_refuses_to_replace_voters_unless_told_yes():
    call_command("create_fake_voter_data", "20", stdin=StringIO())  # none yet: nothing to lose
    before = list(Voter.objects.values_list("number", flat=True))

    with pytest.raises(CommandError, match=r"20 voters in 1 polling center exist .* --yes") as refusal:
        call_command("create_fake_voter_data", "30", stdin=StringIO())

    assert refusal.value.returncode == 1
    assert list(Voter.objects.values_list("number", flat=True)) == before
    call_command("create_fake_voter_data", "30", "--yes", stdin=StringIO())
    assert Voter.objects.count() == 30


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["no\n", "\n", ""])
def test_fake_data_on_a_terminal_keeps_the_voters_unless_the_answer_is_yes(answer):
    call_command("create_fake_voter_data", "20")
    before = list(Voter.objects.values_list("number", flat=True))
    out = StringIO()

    with pytest.raises(
        CommandError, match="Not replaced: the 20 voters in 1 polling center are as they were"
    ):
        call_command("create_fake_voter_data", "30", stdin=Terminal(answer), stdout=out)

    assert "This deletes all 20 voters in 1 polling center" in out.getvalue()
    assert list(Voter.objects.values_list("number", flat=True)) == before


@pytest.mark.django_db(transaction=True)
def test_fake_data_asks_on_a_real_terminal_how_many_voters_it_replaces_and_replaces_them_on_yes():
    call_command("create_fake_voter_data", "1200")

    transcript, returncode = answered_on_a_terminal(["create_fake_voter_data", "30"], "yes\n")

    assert "This deletes all 1,200 voters in 1 polling center" in transcript
    assert "Type 'yes' to replace them:" in transcript
    assert returncode == 0, transcript
    assert Voter.objects.count() == 30


def answered_on_a_terminal(argv, answer, timeout=60):
    """Run ``manage.py argv`` on a pseudo-terminal of its own, type ``answer`` once it asks
    ("…: " printed), and return what the terminal showed and the exit code."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *argv],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_CONFIGURATION": "Test"},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    shown, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    shown += os.read(controller, 4096)
                except OSError:  # the terminal closed: the command has exited
                    break
            if not answered and shown.rstrip().endswith(b":"):
                os.write(controller, answer.encode())
                answered = True
            if process.poll() is not None and not ready:
                break
        return shown.decode(errors="replace"), process.wait(timeout=5)
    finally:
        os.close(controller)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.django_db
def test_queue_task_refuses_an_unknown_option_and_lists_the_valid_ones():
    call_command("create_fake_voter_data", "20")

    listed = r"Unknown option '9'(.|\n)*5b  assign_stations_and_generate_lists_with_chord"
    with pytest.raises(CommandError, match=listed):
        call_command("queue_task", "9")

    assert not RollRun.objects.exists()


@pytest.mark.django_db
def test_queue_task_refuses_when_there_are_no_voters():
    with pytest.raises(CommandError, match="no registered voters"):
        call_command("queue_task", "1")

    assert not RollRun.objects.exists()


@pytest.mark.django_db(transaction=True)  # the task is sent on commit, as outside a test
def test_queue_task_says_why_when_the_broker_refuses_and_the_run_records_it(monkeypatch):
    call_command("create_fake_voter_data", "20")

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", broker_down)
    with pytest.raises(CommandError, match=r"Nothing queued: Run \d+ failed: .*broker down"):
        call_command("queue_task", "1")

    run = RollRun.objects.get()
    assert run.status == "failed" and "broker down" in run.error


@pytest.mark.parametrize("alias", ["5B", "queue_tasks_by_center_with_chord"])
def test_queue_task_takes_a_name_or_an_alias_and_the_worker_completes_the_run(worker, alias):
    call_command("create_fake_voter_data", "700")

    call_command("queue_task", alias)

    run = wait_for_outcome(RollRun.objects.get())
    assert run.status == "finished" and run.pages > 0


def test_queue_task_waits_for_the_outcome_when_asked_and_fails_with_the_run(worker):
    call_command("create_fake_voter_data", "700")
    out = StringIO()

    call_command("queue_task", "5c", wait=60, stdout=out)
    with pytest.raises(CommandError, match=r"Run \d+ .* failed: Task .* LookupError"):
        call_command("queue_task", "error", wait=60, stdout=StringIO())

    finished = RollRun.objects.get(option="assign_stations_and_generate_lists_in_chunks")
    assert f"{finished} finished" in out.getvalue() and f"{finished.pages} pages" in out.getvalue()


@pytest.mark.django_db
def test_a_run_without_a_sign_of_life_for_the_setting_is_failed_and_a_long_live_one_is_not(settings):
    settings.VOTERROLL_STALLED_AFTER = 60
    now = timezone.now()
    run = RollRun.objects.create(option="all_in_one", status=RollRun.Status.RUNNING)
    # Queued two hours ago and still working: the old watchdog, counting from queueing, failed it.
    RollRun.objects.filter(pk=run.pk).update(queued_dt=now - timedelta(hours=2), progress_dt=now)
    assert fail_stalled() == 0

    RollRun.objects.filter(pk=run.pk).update(progress_dt=now - timedelta(seconds=61))
    assert fail_stalled() == 1

    run.refresh_from_db()
    assert run.status == "failed" and run.finished_dt
    assert "Stalled: running, and no sign of life from its tasks since" in run.error


@pytest.mark.django_db
def test_a_stalled_run_does_not_block_the_next_one(settings):
    settings.VOTERROLL_STALLED_AFTER = 60
    call_command("create_fake_voter_data", "20")
    stuck = RollRun.objects.create(option="all_in_one", status=RollRun.Status.RUNNING)
    RollRun.objects.filter(pk=stuck.pk).update(progress_dt=timezone.now() - timedelta(minutes=5))

    call_command("queue_task", "5c", stdout=StringIO())

    assert RollRun.objects.get(pk=stuck.pk).status == "failed"
    assert RollRun.objects.filter(status="queued").count() == 1


@pytest.mark.django_db
def test_a_run_notes_its_progress_at_most_every_few_seconds_per_process():
    run = RollRun.objects.create(option="all_in_one", status=RollRun.Status.RUNNING)
    runs.last_noted.update(run=None, at=0.0)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            runs.note_progress(run.pk)

    assert len(queries) == 1 and RollRun.objects.get().progress_dt is not None


def test_the_watchdog_waits_longer_than_any_step_that_gives_no_sign_of_life(settings):
    # An import is no run's task: the watchdog does not wait on it.
    voterroll_tasks = [
        task
        for name, task in app.tasks.items()
        if name.startswith("voterroll.") and name != import_register.name
    ]
    limits = [task.time_limit or app.conf.task_time_limit for task in voterroll_tasks]
    # The long ones (options 1 and 5a) write rolls, noting progress as they go; of the others,
    # the longest is an orchestrator assigning every station.
    silent = [limit for limit in limits if limit < LONG_RUNNING["time_limit"]]

    assert max(silent) == ASSIGNING["time_limit"]
    assert max(silent) + runs.PROGRESS_EVERY < settings.VOTERROLL_STALLED_AFTER
