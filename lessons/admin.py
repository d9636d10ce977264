import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html

from project.admin import WorkRecordAdmin, moment
from project.formats import seconds

from . import registry
from .models import LessonRun
from .runs import queue_lesson
from .timeline import render_timeline


@admin.register(LessonRun)
class LessonRunAdmin(WorkRecordAdmin):
    """Every lesson with its claim and a Run button above, every run of one below; runs are
    started here or by `manage.py lesson`, never edited."""

    list_display = ["id", "lesson", "status", "short_verdict", "started_by", "queued", "duration"]
    list_filter = ["lesson", "status"]
    fieldsets = [
        (None, {"fields": ["lesson", "claim", "status", "verdict", "figures", "timeline_svg"]}),
        (None, {"fields": ["started_by", "queued", "started", "finished", "duration"]}),
        ("Progress and the lesson's workers' logs", {"fields": ["workers_log"], "classes": ["collapse"]}),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("run/", view(self.run_view), name="lessons_lessonrun_run"), *super().get_urls()]

    def can_run(self, request):
        return request.user.has_perm("lessons.add_lessonrun")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "lessons": registry.LESSONS.values(),
            "can_run": self.can_run(request),
            "run_active": LessonRun.objects.filter(status__in=LessonRun.ACTIVE).exists(),
        }
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        """Queue a run of the lesson the Run button names; the project's worker runs it."""
        if request.method != "POST":
            return redirect("admin:lessons_lessonrun_changelist")
        if not self.can_run(request):
            raise PermissionDenied
        try:
            run = queue_lesson(request.POST.get("lesson", ""), request.user)
        except registry.UnknownLesson as unknown:
            self.message_user(request, str(unknown), messages.ERROR)
            return redirect("admin:lessons_lessonrun_changelist")
        self.message_user(request, f"Queued {run}; its page shows it as it runs.")
        return redirect("admin:lessons_lessonrun_change", run.pk)

    @admin.display(description="claim")
    def claim(self, run):
        lesson = registry.LESSONS.get(run.lesson)
        return f"{lesson.claim} ({lesson.source})" if lesson else None

    @admin.display(description="verdict")
    def short_verdict(self, run):
        return run.verdict[:80] + ("…" if len(run.verdict) > 80 else "")

    @admin.display(description="observation")
    def figures(self, run):
        return (
            format_html("<pre>{}</pre>", json.dumps(run.observation, indent=2)) if run.observation else None
        )

    @admin.display(description="timeline")
    def timeline_svg(self, run):
        """One lane per worker process, one bar per task execution."""
        return render_timeline(run) or None

    @admin.display(description="log")
    def workers_log(self, run):
        if not run.log:
            return None
        return format_html('<pre style="max-height: 24em; overflow: auto">{}</pre>', run.log)

    queued = moment("queued_dt", "queued")
    started = moment("started_dt", "started")
    finished = moment("finished_dt", "finished")

    @admin.display(description="duration")
    def duration(self, run):
        return seconds(run.duration)
