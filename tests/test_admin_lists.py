"""The admin's lists, drawn for less: the same HTML as Django's."""

import pytest
from django.contrib import admin
from django.test.html import parse_html

from project.admin import ModelAdmin
from voterroll.models import PollingCenter

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
