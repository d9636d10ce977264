"""Reports in the admin: created with one click, then watched, never edited."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, Max, Q, Value
from django.db.models.functions import Cast, Concat
from django.shortcuts import get_object_or_404, redirect
from django.urls import path

from project.formats import local_time, seconds

from .models import WORK_STEPS, ReportChord, ReportChordTaskLog, ReportGroup, ReportGroupTaskLog
from .stories import task_name
from .timeline import render_timeline
from .work import fail_stalled


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
        return local_time(log.created_dt)

    @admin.display(description="finished")
    def finished(self, log):
        return local_time(log.finished_dt)


class ReportAdmin(admin.ModelAdmin):
    """Adding a report has no fields: "Save" creates it and its canvas; then the page only shows."""

    change_form_template = "admin/reports/report_change_form.html"
    list_display = ("id", "kind", "status", "created", "duration", "attempts")
    list_filter = ("status",)
    fields = readonly_fields = (
        "kind",
        "status",
        "error",
        "created",
        "duration",
        "is_celery_task_sent",
        "callbacks",
    )

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

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_again"
        again = path("<int:pk>/again/", self.admin_site.admin_view(self.run_again_view), name=name)
        return [again, *super().get_urls()]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id:
            fail_stalled()  # the page tells the truth without waiting for beat
        return super().changeform_view(request, object_id, form_url, extra_context)

    def run_again_view(self, request, pk):
        """A new report of the same kind (after a crash, say): the old one stays as it ended."""
        if request.method != "POST":
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", pk)
        if not self.has_add_permission(request):
            raise PermissionDenied
        get_object_or_404(self.model, pk=pk)
        report = self.model.objects.create()
        self.message_user(request, f"Created {report}, again.")
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", report.pk)

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
        return local_time(report.created_dt)

    @admin.display(description="duration")
    def duration(self, report):
        if report.last_finished_dt is None or report.is_in_progress():
            return "running"
        return seconds(report.last_finished_dt - report.created_dt)

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
