"""`manage.py lesson`: the list, a lesson's verdict as its exit code, bad names refused."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lessons.models import LessonRun
from lessons.registry import LESSONS


def test_the_list_names_every_lesson_with_its_claim_and_source():
    out = StringIO()
    call_command("lesson", "--list", stdout=out)

    listed = out.getvalue()
    assert len(LESSONS) >= 8
    for lesson in LESSONS.values():
        assert f"{lesson.slug}: {lesson.name}" in listed and lesson.source in listed


@pytest.mark.django_db
def test_an_unknown_lesson_is_refused_with_the_names_there_are():
    with pytest.raises(
        CommandError, match="no lesson named 'two-beets'; lessons: visibility-timeout"
    ) as refused:
        call_command("lesson", "two-beets")

    assert refused.value.returncode == 1


def test_a_lesson_whose_service_is_not_reachable_says_so_and_how_to_set_it(transactional_db, settings):
    settings.LESSONS_REDIS_URL = "redis://127.0.0.1:1/9"  # nothing listens on port 1
    out = StringIO()

    with pytest.raises(CommandError) as skipped:
        call_command("lesson", "visibility-timeout", stdout=out)

    assert skipped.value.returncode == 3
    assert "Verdict: skipped: redis not reachable at redis://127.0.0.1:1/9" in out.getvalue()
    assert "set LESSONS_REDIS_URL" in out.getvalue()


def test_pass_pks_confirmed_prints_its_claim_progress_observation_and_verdict(transactional_db):
    out = StringIO()
    call_command("lesson", "pass-pks", stdout=out)  # no CommandError: exit 0

    printed = out.getvalue()
    assert "Claim: A task given an object's data acts on the data" in printed
    assert "worker ready (pid " in printed
    assert 'Observation: {"row": "final", "acted_on": {"data": ["draft"], "pk": ["final"]}}' in printed
    assert "Verdict: confirmed:" in printed
    run = LessonRun.objects.get()
    assert run.status == LessonRun.Status.CONFIRMED and run.started_by is None
    assert run.observation["acted_on"] == {"data": ["draft"], "pk": ["final"]}
    assert [bar["outcome"] for bar in run.timeline["bars"]] == ["ran", "ran"]
    assert "==> worker (pid" in run.log and " ready." in run.log  # its worker's own log lines
