"""What the project's model admins share."""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils.html import format_html
from django.utils.translation import gettext

from .formats import local_time


def moment(field, description):
    """A list column or read-only field showing the moment in ``field`` to the second, as every
    page shows one ("-" for none, where a read-only field would print "None")."""

    @admin.display(description=description, ordering=field)
    def shown(self, obj):
        return local_time(getattr(obj, field)) or "-"

    return shown


class ModelAdmin(admin.ModelAdmin):
    def action_checkbox(self, obj):
        """The box Django puts before each row of a list, as Django draws it, in one format_html:
        Django renders a form widget's template per row, a quarter of a 100-row list's time, and
        the lists are read while runs and reports go on (benchmarks/pages_under_load.py)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )


class WorkRecordAdmin(ModelAdmin):
    """The record of work a task does (a roll run, a register's import, a lesson run): made by
    a view of its own that queues the task, never edited, and not deleted while its status is
    one of the model's ACTIVE ones, since its task is at work on it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status in self.model.ACTIVE:
            return False
        return super().has_delete_permission(request, obj)
