"""Reports in the admin: created with one click, then watched, never edited."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, Max, Q, Value
from django.db.models.functions import Cast, Concat
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.html import format_html, format_html_join

from project.admin import ModelAdmin, moment
from project.formats import seconds

from .activity import clock, failure_summary, queue_wait_sentences, ready_times, step_states
from .models import (
    CALLBACK_STEPS,
    WORK_STEPS,
    ReportChord,
    ReportChordTaskLog,
    ReportGroup,
    ReportGroupTaskLog,
    Status,
    cut_short_log_ids,
)
from .stories import task_name
from .timeline import render_timeline
from .work import fail_stalled


class TaskLogInline(admin.TabularInline):
    """The attempts and callback runs, as the tasks logged them: read-only."""

    extra = 0
    can_delete = False
    fields = readonly_fields = ("task_name", "retry", "outcome", "queued", "created", "finished")

    def get_formset(self, request, obj=None, **kwargs):
        # This inline instance serves one request: what every row needs is read once here.
        logs = list(obj.task_logs.all()) if obj else []
        self.ready = ready_times(obj, logs) if obj else {}
        self.cut_short = cut_short_log_ids(logs)
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by, obj.created_from = request.user, "admin"
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    created = moment("created_dt", "created")
    finished = moment("finished_dt", "finished")  # "-" while it runs, not "None"

    @admin.display(description="outcome")
    def outcome(self, log):
        """What the attempt did, and why it failed; a callback's row says it ran, not that it failed."""
        if log.step in CALLBACK_STEPS:
            return f"Ran: sets the report to {'Error' if log.step == 'error' else 'Finished'}"
        if log.finished_dt is None:
            return "Running"
        if log.status == Status.FINISHED:
            return "Succeeded"
        reason = "Cut short, delivered again" if log.pk in self.cut_short else (log.error or "stopped")
        after = f"; retry due at {clock(log.retry_due_dt)}" if log.retry_due_dt else ""
        return format_html('<span class="attempt-failed">Failed: {}</span>{}', reason, after)

    @admin.display(description="in the queue")
    def queued(self, log):
        """How long its message waited for a worker process before this attempt or run started."""
        if log.pk not in self.ready:
            return None
        return seconds(max(0.0, (log.created_dt - self.ready[log.pk]).total_seconds()))


class ReportAdmin(ModelAdmin):
    """Adding a report has no fields: "Save" creates it and its canvas; then the page only shows."""

    change_form_template = "admin/reports/report_change_form.html"
    list_display = ("id", "kind", "status", "created", "creator", "duration", "attempts")
    list_filter = ("status",)
    fields = readonly_fields = (
        "kind",
        "status",
        "tasks",
        "error",
        "created",
        "creator",
        "duration",
        "is_celery_task_sent",
        "callbacks",
    )

    def get_queryset(self, request):
        work_names = [task_name(self.model.kind, step) for step in WORK_STEPS]
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
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
        report = self.get_object(request, unquote(object_id)) if object_id else None
        if report is not None:
            fail_stalled(report)  # the page tells its report's truth without waiting for beat
        return super().changeform_view(request, object_id, form_url, extra_context)

    def run_again_view(self, request, pk):
        """A new report of the same kind (after a crash, say): the old one stays as it ended."""
        if request.method != "POST":
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", pk)
        if not self.has_add_permission(request):
            raise PermissionDenied
        get_object_or_404(self.model, pk=pk)
        report = self.model.objects.create(created_by=request.user, created_from=f"Run again of report {pk}")
        self.message_user(request, f"Created {report}, again.")
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", report.pk)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by, obj.created_from = request.user, "admin"
        super().save_model(request, obj, form, change)

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

    created = moment("created_dt", "created")

    @admin.display(description="created by")
    def creator(self, report):
        return report.creator() or "-"  # reports from before it was recorded

    @admin.display(description="tasks")
    def tasks(self, report):
        """Each task's state at a glance: running, in the queue, waiting to retry (until when), done."""
        return format_html(
            '<ul class="report-tasks">{}</ul>',
            format_html_join(
                "",
                '<li class="task-{}"><strong>{}</strong>: {}</li>',
                ((state, step, text) for step, state, text in step_states(report)),
            ),
        )

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
            context["queue_waits"] = queue_wait_sentences(obj)
            context["failure"] = failure_summary(obj)
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
