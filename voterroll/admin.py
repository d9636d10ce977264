import tempfile
import zipfile
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .charts import duration_chart
from .models import Option, PollingCenter, RollRun, Voter
from .runs import RunRefused, active_run
from .tasks import queue_run


@admin.register(PollingCenter)
class PollingCenterAdmin(admin.ModelAdmin):
    list_display = ["center_id", "center_name", "voters", "rolls_generated_at", "roll_pages"]
    search_fields = ["center_id", "center_name"]
    readonly_fields = ["rolls_generated_at", "roll_pages"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(voter_count=Count("registrations"))

    @admin.display(ordering="voter_count")
    def voters(self, center):
        return center.voter_count

    def save_model(self, request, obj, form, change):
        """Regenerate a changed center's rolls (its name is on every page) once it is saved.

        Here, not in a post_save signal: bulk inserts of fake data must not print rolls.
        Queued after the save commits, so that a run refused then (another is active, the
        broker is down) is a warning beside the saved change, not an error page.
        """
        super().save_model(request, obj, form, change)
        if change:
            transaction.on_commit(partial(self.regenerate_rolls, request, obj))

    def regenerate_rolls(self, request, center):
        try:
            run = queue_run(Option.CHORD_BY_STATION, center=center)
        except RunRefused as refused:
            self.message_user(
                request, f"{center} saved, but its rolls were not regenerated: {refused}", messages.WARNING
            )
        else:
            self.message_user(request, f"{center} saved; {run} regenerates its rolls.")


@admin.register(Voter)
class VoterAdmin(admin.ModelAdmin):
    list_display = ["voter_id", "voter_name", "center", "station"]
    list_select_related = ["registration__center", "station"]
    search_fields = ["=voter_id", "voter_name"]
    ordering = ["voter_id"]  # indexed; the model's name order would sort every voter per page
    # Counting a million voters on every page is slow; the count is not worth it.
    show_full_result_count = False

    @admin.display(description="center")
    def center(self, voter):
        registration = getattr(voter, "registration", None)
        return registration.center if registration else None

    @admin.display(description="station")
    def station(self, voter):
        assignment = getattr(voter, "station", None)
        return assignment.station if assignment else None


class StartRunForm(forms.Form):
    option = forms.ChoiceField(choices=Option.choices)


@admin.register(RollRun)
class RollRunAdmin(admin.ModelAdmin):
    """Runs side by side; started with a form, never edited. Their PDFs download from here only."""

    # Few, short columns: the list must fit a laptop screen beside the admin's navigation.
    list_display = [
        "id", "what", "status", "queued", "duration", "centers", "stations", "pages", "tasks",
        "short_error", "download",
    ]  # fmt: skip
    list_filter = ["option", "status"]
    list_select_related = ["center"]
    fields = [
        "option", "center", "status", "queued_at", "started_at", "finished_at", "duration",
        "centers", "stations", "pages", "tasks", "error", "output_dir", "files",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # runs start through start_view, which queues their task

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # its PDFs would be left behind, and an active run would stop guarding

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="voterroll_rollrun_start"),
            path("<int:pk>/pdfs.zip", view(self.download_zip_view), name="voterroll_rollrun_zip"),
            path("<int:pk>/pdfs/<str:name>", view(self.download_pdf_view), name="voterroll_rollrun_pdf"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "duration_chart": duration_chart(),
            "can_start_runs": self.can_start_runs(request),
            # Reload by itself while a run can still change, as a report's page does.
            "run_active": active_run() is not None,
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="option", ordering="option")
    def what(self, run):
        label = run.get_option_display()
        return f"{label}, center {run.center.center_id}" if run.center else label

    @admin.display(description="queued", ordering="queued_at")
    def queued(self, run):
        return timezone.localtime(run.queued_at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="duration")
    def duration(self, run):
        return f"{run.duration.total_seconds():.2f} s" if run.duration else "–"

    @admin.display(description="error")
    def short_error(self, run):
        return run.error[:40] + ("…" if len(run.error) > 40 else "")

    @admin.display(description="PDFs")
    def download(self, run):
        if run.started_at is None:
            return "–"
        return format_html('<a href="{}">zip</a>', reverse("admin:voterroll_rollrun_zip", args=[run.pk]))

    @admin.display(description="files")
    def files(self, run):
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:voterroll_rollrun_pdf", args=[run.pk, pdf.name]), pdf.name)
                for pdf in run.pdf_files()
            ),
        ) or "–"

    def can_start_runs(self, request):
        return request.user.has_perm("voterroll.add_rollrun")

    def start_view(self, request):
        if not self.can_start_runs(request):
            raise PermissionDenied
        form = StartRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = queue_run(form.cleaned_data["option"])
            except RunRefused as refused:
                form.add_error("option", str(refused))
            else:
                self.message_user(request, f"Queued {run}.")
                return redirect("admin:voterroll_rollrun_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a voter-roll run",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/voterroll/rollrun/start.html", context)

    def viewable_run(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(RollRun, pk=pk)

    def download_pdf_view(self, request, pk, name):
        run = self.viewable_run(request, pk)
        # Only a name from the run's own listing: nothing outside its folder can be asked for.
        matches = [pdf for pdf in run.pdf_files() if pdf.name == name]
        if not matches:
            raise Http404("No such PDF in this run")
        return FileResponse(matches[0].open("rb"), as_attachment=True, filename=name)

    def download_zip_view(self, request, pk):
        run = self.viewable_run(request, pk)
        pdfs = run.pdf_files()
        if not pdfs:
            raise Http404("This run has no PDFs")
        archive = tempfile.TemporaryFile()  # FileResponse closes it, and the OS deletes it
        # Stored, not deflated: the PDFs' streams are compressed already.
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
            for pdf in pdfs:
                bundle.write(pdf, pdf.name)
        archive.seek(0)
        return FileResponse(archive, as_attachment=True, filename=f"voterroll-run-{run.pk}.zip")
