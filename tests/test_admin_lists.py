"""The admin's lists and pages: the same checkbox as Django's for less, moments to the second."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.test.html import parse_html

from lessons import registry
from lessons.models import LessonRun
from project.admin import ModelAdmin
from reports.models import ReportChord, Status
from voterroll.models import PollingCenter, VoterRegister

pytestmark = pytest.mark.django_db


def test_the_box_before_each_row_is_the_one_django_draws():
    center = PollingCenter.objects.create(number=12345, name='<b>"Rue & Cie"</b>')
    ours = ModelAdmin(PollingCenter, admin.site).action_checkbox(center)
    djangos = admin.ModelAdmin(PollingCenter, admin.site).action_checkbox(center)
    assert parse_html(ours) == parse_html(djangos)
    assert "<b>" not in ours  # the name is escaped


def test_every_list_of_the_project_draws_its_boxes_so():
    ours = [
        type(model_admin).__name__
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"reports", "voterroll", "lessons"}
        and not isinstance(model_admin, ModelAdmin)
    ]
    assert ours == []


def test_every_page_shows_a_moment_to_the_second(admin_client):
    center = PollingCenter.objects.create(number=1, name="School")
    written = datetime(2026, 12, 4, 19, 4, 7, tzinfo=UTC)
    PollingCenter.objects.filter(pk=center.pk).update(rolls_written_dt=written)
    register = VoterRegister.objects.create(file="registers/roll.csv", size=10)
    lesson = LessonRun.objects.create(lesson=next(iter(registry.LESSONS)))

    for url in [
        "/admin/voterroll/pollingcenter/",
        f"/admin/voterroll/pollingcenter/{center.pk}/change/",
        f"/admin/voterroll/voterregister/{register.pk}/change/",
        f"/admin/lessons/lessonrun/{lesson.pk}/change/",
    ]:
        page = admin_client.get(url).content.decode()
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page), url
        assert " p.m." not in page and " a.m." not in page, url


def test_a_running_attempt_shows_no_finish_rather_than_none(admin_client):
    report = ReportChord.objects.create(status=Status.PROCESSING, is_celery_task_sent=True)
    report.task_logs.create(task_name="report_chord_short")

    page = admin_client.get(f"/admin/reports/reportchord/{report.pk}/change/").content.decode()

    assert "None" not in page
