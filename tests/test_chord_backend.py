"""The result backend counts a chord's header cheaply and fires its body once, when all is ready."""

import random
import uuid

import pytest
from celery import chord, signature, states
from celery.app.task import Context
from celery.canvas import Signature
from celery.result import AsyncResult
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import ChordCounter, TaskResult

from project.celery import app
from project.results import DatabaseBackend
from tests.tasks import add_to_own_chord, collect, echo, stamp


@pytest.fixture
def sent_bodies(monkeypatch):
    """The results each chord body was sent with, recorded instead of sent."""
    sent = []
    monkeypatch.setattr(
        Signature, "apply_async", lambda body, args=(), *rest, **options: sent.append(args[0])
    )
    return sent


def start_chord(size):
    """A chord's counter as Celery leaves it when it sends the header; its header task ids and body."""
    task_ids = [f"header-{n}" for n in range(size)]
    body = signature("tests.tasks.collect")
    app.backend.apply_chord(
        ("group-1", [AsyncResult(task_id) for task_id in task_ids]), body
    )  # as Celery does
    return task_ids, body


def finish(task_id, body, value=None):
    """What a worker does when a header task returns: store its result, count it."""
    app.backend.store_result(task_id, value or task_id, states.SUCCESS)
    app.backend.on_chord_part_return(Context(id=task_id, group="group-1", chord=body), states.SUCCESS, value)


def test_the_configured_backend_is_the_projects_own():
    assert isinstance(app.backend, DatabaseBackend)


@pytest.mark.django_db
def test_the_body_gets_every_result_in_header_order_read_in_one_query(sent_bodies):
    task_ids, body = start_chord(200)
    order = task_ids[:]
    random.Random(0).shuffle(order)
    for task_id in order[:-1]:
        finish(task_id, body)

    with CaptureQueriesContext(connection) as queries:
        finish(order[-1], body)

    assert sent_bodies == [task_ids]
    assert len(queries) < 10  # upstream reads the 200 results one query each
    assert not ChordCounter.objects.exists()


@pytest.mark.django_db
def test_a_header_task_run_twice_neither_sends_the_body_early_nor_twice(sent_bodies):
    """acks_late delivers a task again when its worker dies after the work, before the ack."""
    (a, b, c), body = start_chord(3)

    finish(a, body)
    finish(a, body)  # delivered again: the count reaches zero while c still runs
    finish(b, body)

    assert sent_bodies == []
    assert ChordCounter.objects.get().count == 1  # counted again: c is the one still to come
    finish(c, body)
    finish(b, body)
    assert sent_bodies == [[a, b, c]]


@pytest.mark.django_db
def test_a_count_already_at_zero_stays_at_zero(sent_bodies):
    """A header task run twice can count while the count is at zero and the task that took it
    there has not yet looked: the column may not go negative (a check on both databases)."""
    (a, b), body = start_chord(2)
    ChordCounter.objects.update(count=0)  # a duplicate of a counted, b's look still to come

    finish(a, body)

    assert ChordCounter.objects.get().count == 1  # b is the one still to come
    finish(b, body)
    assert sent_bodies == [[a, b]]


@pytest.mark.django_db
def test_a_task_added_to_a_chord_twice_is_counted_once_and_the_body_waits_for_it(sent_bodies):
    """Task.add_to_chord, as option 5c's assigner adds its chunks; delivered again, it adds them
    again under the same ids."""
    (header,), body = start_chord(1)

    app.backend.add_to_chord("group-1", AsyncResult("added"))
    app.backend.add_to_chord("group-1", AsyncResult("added"))

    assert ChordCounter.objects.get().count == 2
    finish(header, body)
    assert sent_bodies == []
    finish("added", body)
    assert sent_bodies == [[header, "added"]]


@pytest.mark.broker
def test_a_header_task_adds_tasks_to_its_chord_and_the_body_gets_their_results_after_them(worker):
    added = [stamp.s(f"added-{n}").set(task_id=str(uuid.uuid4())) for n in range(3)]

    results, body_ran = chord([add_to_own_chord.s(added), stamp.s("header")])(collect.s()).get(timeout=30)

    header_result, (label, _), *added_results = results
    assert (header_result, label) == ("added", "header")
    assert [label for label, _ in added_results] == ["added-0", "added-1", "added-2"]  # each once
    assert all(finished <= body_ran for _, finished in added_results)


@pytest.mark.django_db
def test_a_result_stored_again_replaces_the_first(sent_bodies):
    app.backend.store_result("twice", None, states.STARTED)
    app.backend.store_result("twice", {"pages": 3}, states.SUCCESS)

    stored = TaskResult.objects.get(task_id="twice")
    assert (stored.status, app.backend.decode_content(stored, stored.result)) == ("SUCCESS", {"pages": 3})
    assert stored.date_started is not None and stored.date_done >= stored.date_started


@pytest.mark.broker
def test_a_chord_of_a_thousand_tasks_completes_on_a_real_worker(worker):
    """django-celery-results #482: upstream reads such a header one query per result, within 3 s."""
    results = chord(echo.s(n) for n in range(1000))(collect.s()).get(timeout=150)

    assert results[0] == list(range(1000))
