"""Reports in the admin: created with one click, then watched, never edited."""
from django.contrib import admin
from django.db.models import CharField, Count, Max, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from .models import WORK_STEPS, ReportChord, ReportChordTaskLog, ReportGroup, ReportGroupTaskLog
from .stories import task_name
from .timeline import render_timeline

SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"


def with_seconds(moment):
    return timezone.localtime(moment).strftime(SECONDS_FORMAT) if moment else "—"


class TaskLogInline(admin.TabularInline):
    """The attempts and callback runs, as the tasks logged them: read-only."""

    extra = 0
    can_delete = False
    fields = readonly_fields = ("task_name", "status", "created", "finished", "retry")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="created")
    def created(self, log):
        return with_seconds(log.created_dt)

    @admin.display(description="finished")
    def finished(self, log):
        return with_seconds(log.finished_dt)


class ReportAdmin(admin.ModelAdmin):
    """Adding a report has no fields: "Save" creates it and its canvas; then the page only shows."""

    change_form_template = "admin/reports/report_change_form.html"
    list_display = ("id", "kind", "status", "created", "duration", "attempts")
    list_filter = ("status",)
    fields = readonly_fields = (
        "kind", "status", "created", "duration", "is_celery_task_sent", "callbacks",
    )  # fmt: skip

    def get_queryset(self, request):
        work_names = [task_name(self.model.kind, step) for step in WORK_STEPS]
        return (
            super()
            .get_queryset(request)
            .prefetch_related("task_logs")  # is_in_progress() reads them, once per report
            .annotate(
                # A redelivered attempt logs its retry number again: count attempts, not logs.
                attempt_count=Count(
                    Concat("task_logs__task_name", Value(":"), Cast("task_logs__retry", CharField())),
                    filter=Q(task_logs__task_name__in=work_names),
                    distinct=True,
                ),
                last_finished_dt=Max("task_logs__finished_dt"),
            )
        )

    def has_change_permission(self, request, obj=None):
        # A saved report is written by its tasks only; its page is for watching.
        return obj is None and super().has_change_permission(request)

    def get_fieldsets(self, request, obj=None):
        if obj:
            return [(None, {"fields": self.fields, "description": self.model.lesson})]
        description = f"Saving creates the report and sends its {self.model.kind} of three tasks."
        return [(None, {"fields": (), "description": description})]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(description="kind")
    def kind(self, report):
        return report.kind

    @admin.display(description="created", ordering="created_dt")
    def created(self, report):
        return with_seconds(report.created_dt)

    @admin.display(description="duration")
    def duration(self, report):
        if report.last_finished_dt is None or report.is_in_progress():
            return "running"
        return f"{(report.last_finished_dt - report.created_dt).total_seconds():.2f} s"

    @admin.display(description="attempts", ordering="attempt_count")
    def attempts(self, report):
        return report.attempt_count

    @admin.display(description="callbacks")
    def callbacks(self, report):
        return report.callback_summary()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj:
            context["timeline"] = render_timeline(obj)  # drawn across the page, under the fields
        return super().render_change_form(request, context, add, change, form_url, obj)


class ReportGroupTaskLogInline(TaskLogInline):
    model = ReportGroupTaskLog


class ReportChordTaskLogInline(TaskLogInline):
    model = ReportChordTaskLog


@admin.register(ReportGroup)
class ReportGroupAdmin(ReportAdmin):
    inlines = [ReportGroupTaskLogInline]


@admin.register(ReportChord)
class ReportChordAdmin(ReportAdmin):
    inlines = [ReportChordTaskLogInline]
