"""The management commands: fake data at the right shape, runs queued, bad input refused."""
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from project.celery import app
from tests.voterroll_utils import wait_for_outcome
from voterroll.models import PollingCenter, RollRun, Voter, VoterRegistration
from voterroll.runs import fail_stalled_runs
from voterroll.tasks import ASSIGNING, LONG_RUNNING, all_in_one


@pytest.mark.django_db
def test_fake_data_replaces_all_voters_across_uneven_school_like_centers():
    call_command("create_fake_voter_data", "50")
    call_command("create_fake_voter_data", "3000")

    assert Voter.objects.count() == VoterRegistration.objects.count() == 3000
    assert Voter.objects.values("voter_id").distinct().count() == 3000
    sizes = Counter(VoterRegistration.objects.values_list("center_id", flat=True))
    assert PollingCenter.objects.count() == len(sizes) == 3
    assert len(set(sizes.values())) > 1 and min(sizes.values()) >= 1
    names = PollingCenter.objects.values_list("center_name", flat=True)
    assert all("School" in name for name in names)


@pytest.mark.django_db
def test_fake_data_is_the_same_for_the_same_seed():
    call_command("create_fake_voter_data", "200", seed=5)
    first = list(Voter.objects.order_by("pk").values_list("voter_id", "voter_name"))

    call_command("create_fake_voter_data", "200", seed=5)

    assert list(Voter.objects.order_by("pk").values_list("voter_id", "voter_name")) == first


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["0", "-3", "abc", "1.5", "", "²"])
def test_fake_data_needs_a_positive_integer_and_changes_nothing_otherwise(bad):
    call_command("create_fake_voter_data", "20")

    with pytest.raises(CommandError, match="N: must be a positive integer"):
        call_command("create_fake_voter_data", bad)

    assert Voter.objects.count() == 20


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

    monkeypatch.setattr(all_in_one, "delay", broker_down)
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


@pytest.mark.django_db
def test_watchdog_fails_runs_stuck_longer_than_the_setting(settings):
    settings.VOTERROLL_STALLED_AFTER = 60
    stuck = RollRun.objects.create(option="all_in_one")
    RollRun.objects.filter(pk=stuck.pk).update(queued_at=timezone.now() - timedelta(seconds=61))
    done = RollRun.objects.create(option="all_in_one", status=RollRun.Status.FINISHED)
    RollRun.objects.filter(pk=done.pk).update(queued_at=timezone.now() - timedelta(hours=2))

    assert fail_stalled_runs() == 1

    stuck.refresh_from_db()
    done.refresh_from_db()
    assert stuck.status == "failed" and "Stalled" in stuck.error and stuck.finished_at
    assert done.status == "finished"


def test_watchdog_waits_longer_than_any_run_the_task_time_limits_allow(settings):
    limits = [
        task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if name.startswith("voterroll.")
    ]
    # Option 5a's orchestrator, then its starmap (limits set on the signature, not the task).
    longest_run = ASSIGNING["time_limit"] + LONG_RUNNING["time_limit"]

    assert len(limits) > 5 and max(limits) >= LONG_RUNNING["time_limit"]
    assert settings.VOTERROLL_STALLED_AFTER > max(limits)
    assert settings.VOTERROLL_STALLED_AFTER >= longest_run + 30 * 60  # and queue waits
