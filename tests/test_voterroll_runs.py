"""A run's life: only the task that claims a queued run works on it; an outcome, once recorded, stays."""
import threading

import pytest
from django.db import connection

from tests.voterroll_utils import center_with_voters
from voterroll.fake_data import replace_voter_data
from voterroll.models import Option, PollingCenter, StationAssignment
from voterroll.runs import create_run, fail_run, finish_run, mark_running
from voterroll.tasks import all_in_one

pytestmark = pytest.mark.django_db


def test_an_option_task_whose_run_was_failed_meanwhile_does_no_work(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    center_with_voters(3)
    run = create_run(Option.ALL_IN_ONE)
    fail_run(run.pk, "Stalled: failed by the watchdog")

    all_in_one(run.pk)  # the message arrives late; called here in-process, no canvas involved

    run.refresh_from_db()
    assert (run.status, run.error, run.tasks) == ("failed", "Stalled: failed by the watchdog", 0)
    assert not StationAssignment.objects.exists()
    assert not run.pdf_files()


def test_a_second_delivery_of_a_started_run_does_not_start_or_count_it_again():
    center_with_voters(3)
    run = create_run(Option.CHORD_BY_STATION)

    first = mark_running(run.pk)
    again = mark_running(run.pk)

    assert first.status == "running" and again is None
    run.refresh_from_db()
    assert (run.status, run.tasks, run.started_at) == ("running", 1, first.started_at)


def test_finishing_a_run_that_was_failed_meanwhile_keeps_the_failure():
    center = center_with_voters(3)
    run = mark_running(create_run(Option.CHORD_BY_STATION).pk)
    fail_run(run.pk, "Stalled: failed by the watchdog")

    assert finish_run(run.pk, [{"center": center.pk, "stations": 1, "pages": 2}]) is None

    run.refresh_from_db()
    assert (run.status, run.error, run.pages) == ("failed", "Stalled: failed by the watchdog", 0)
    assert PollingCenter.objects.get().rolls_generated_at is None


@pytest.mark.django_db(transaction=True)  # two connections: each must see the other's commits
def test_a_run_started_while_fake_data_is_replaced_waits_until_the_new_data_is_committed():
    replace_voter_data(20)
    started = {}

    def start_run():
        try:
            started["run"] = create_run(Option.CHORD_BY_STATION)
        finally:
            connection.close()

    racer = threading.Thread(target=start_run)

    def progress(rows):
        if racer.ident is None:  # the old voters are deleted, the new ones not yet committed
            racer.start()
            racer.join(timeout=1)
            started["blocked"] = racer.is_alive()

    replace_voter_data(30, seed=2, progress=progress)
    racer.join(timeout=30)

    assert started["blocked"], "a run was created while the voter data was being replaced"
    assert started["run"].status == "queued"
