from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat, pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from project.admin import ModelAdmin, WorkRecordAdmin, moment
from project.formats import seconds

from . import files, record
from .charts import duration_chart
from .models import PollingCenter, RollRun, Voter, VoterRegister, VoterRegistration
from .options import Option, option_choices
from .progress import run_progress
from .register import delete_centers, voters_by_center
from .register_file import fail_stalled_uploads, queue_upload
from .retention import delete_run
from .runs import RunRefused, active_run, busy_message, fail_stalled, start_run
from .timeline import render_timeline


@admin.register(PollingCenter)
class PollingCenterAdmin(ModelAdmin):
    list_display = ["number", "name", "voters", "rolls_written", "roll_pages"]
    search_fields = ["number", "name"]
    readonly_fields = ["rolls_written", "roll_pages", "rolls"]
    rolls_written = moment("rolls_written_dt", "rolls written")

    @admin.display(description="rolls and signs")
    def rolls(self, center):
        """This center's files from the run that wrote them last, and that run's station list:
        from its job record (one read, not a listing of a folder of thousands of files)."""
        run = center.rolls_run
        if run is None or run.files_deleted_dt:
            return None
        own = f"center_{center.number}_"
        names = [entry["name"] for entry in record.read_entries(run) or [] if entry["name"].startswith(own)]
        return file_links(
            run, [f"{run.output_dir}/{name}" for name in [*names, "stations.csv"]] if names else []
        )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(voter_count=Count("registrations"))

    def get_deleted_objects(self, objs, request):
        """The delete confirmation: each center with how many voters go with it, counted.

        Django's own lists every related row, a page of megabytes for a few centers. The
        deletion is refused while a run is active (shown as "protected": nothing is deleted).
        """
        centers = list(objs)
        voters = voters_by_center([center.pk for center in centers])
        listed = []  # each center, then its line (a nested list, for the template's unordered_list)
        for center in centers:
            line = f"{voters.get(center.pk, 0):,} voters, with their registrations and stations"
            listed += [str(center), [line]]
        total = sum(voters.values())
        counts = {
            PollingCenter._meta.verbose_name_plural: len(centers),
            Voter._meta.verbose_name_plural: total,
            VoterRegistration._meta.verbose_name_plural: total,
        }
        perms_needed = set()
        if total and not self.admin_site.get_model_admin(Voter).has_delete_permission(request):
            perms_needed.add(Voter._meta.verbose_name)
        active = active_run()
        protected = [busy_message(active)] if active else []
        return listed, counts, perms_needed, protected

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        """Centers with their voters (register.delete_centers): in the admin, never a voter
        left registered nowhere."""
        try:
            _, voters = delete_centers(center.pk for center in queryset)
        except RunRefused as refused:  # a run started after the confirmation page
            self.message_user(request, f"Nothing was deleted: {refused}", messages.ERROR)
        else:
            self.message_user(request, f"Deleted {voters:,} voters with the centers, and their stations.")

    @admin.display(ordering="voter_count")
    def voters(self, center):
        return center.voter_count

    def save_model(self, request, obj, form, change):
        """Regenerate a center's rolls once it is saved, if its number or name (on every page)
        changed and the user may start runs.

        Here, not in a post_save signal: bulk inserts of fake data must not write rolls.
        Queued after the save commits, so that a run refused then (another is active, the
        broker is down) is a warning beside the saved change, not an error page.
        """
        super().save_model(request, obj, form, change)
        if not change or not {"number", "name"} & set(form.changed_data):
            return  # nothing its rolls print has changed
        if not request.user.has_perm("voterroll.add_rollrun"):
            self.message_user(
                request,
                f"{obj} saved; its rolls show the old name until someone who may start runs "
                "regenerates them.",
                messages.WARNING,
            )
            return
        transaction.on_commit(partial(self.regenerate_rolls, request, obj))

    def regenerate_rolls(self, request, center):
        try:
            run = start_run(
                Option.CHORD_BY_STATION, center=center, started_by=request.user, started_from="center renamed"
            )
        except RunRefused as refused:
            self.message_user(
                request, f"{center} saved, but its rolls were not regenerated: {refused}", messages.WARNING
            )
        else:
            self.message_user(
                request, format_html("{} saved; {} regenerates its rolls.", center, run_link(run))
            )


@admin.register(Voter)
class VoterAdmin(ModelAdmin):
    list_display = ["number", "name", "center", "station"]
    list_select_related = ["registration__center", "station"]
    search_fields = ["=number", "name"]
    ordering = ["number"]  # indexed; the model's name order would sort every voter per page
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


def file_links(run, names):
    """Links that download ``names``, files of ``run``, through the admin."""
    short = (name.rsplit("/", 1)[-1] for name in names)
    links = ((reverse("admin:voterroll_rollrun_file", args=[run.pk, name]), name) for name in short)
    return format_html_join(", ", '<a href="{}">{}</a>', links) or None


def run_link(run):
    """``run`` as a link to its page, for a message."""
    return format_html('<a href="{}">{}</a>', reverse("admin:voterroll_rollrun_change", args=[run.pk]), run)


def files_table(run, entries):
    """The run's files from its job record, a row per station: its roll and sign, pages, size."""
    by_station = {}
    for entry in entries:
        found = files.STATION_FILE.fullmatch(entry["name"])
        if found:
            center, station, sign = found.groups()
            by_station.setdefault((int(center), int(station)), {})["sign" if sign else "roll"] = entry
    # One reverse for the folder, not two per row: a million voters' run lists 3,000 stations.
    folder = reverse("admin:voterroll_rollrun_file", args=[run.pk, "-"]).removesuffix("-")
    rows = []
    for (center, station), pair in sorted(by_station.items()):
        roll, sign = pair.get("roll"), pair.get("sign")
        links = [
            format_html('<a href="{}{}">{}</a>', folder, e["name"], e["name"]) if e else "—"
            for e in (roll, sign)
        ]
        size = sum(e["bytes"] for e in (roll, sign) if e)
        pages = roll["pages"] if roll else "—"
        rows.append((center, station, *links, pages, filesizeformat(size)))
    body = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
    )
    head = "<tr><th>center</th><th>station</th><th>roll</th><th>sign</th><th>pages</th><th>size</th></tr>"
    return format_html(
        '<table class="run-files"><thead>{}</thead><tbody>{}</tbody></table>', mark_safe(head), body
    )


class StartRunForm(forms.Form):
    # Radio buttons, each shown with what its option does and teaches (start.html).
    option = forms.ChoiceField(choices=option_choices, widget=forms.RadioSelect, initial=Option.ALL_IN_ONE)


# A run's page: what it is, how it went.
RUN_FIELDS = [
    *("option", "center", "status", "started_by_whom", "queued", "started", "finished", "duration"),
    *("centers", "stations", "voters", "pages", "pages_per_second", "tasks", "error"),
]


@admin.register(RollRun)
class RollRunAdmin(WorkRecordAdmin):
    """Runs side by side; started with a form, never edited. Their PDFs download from here only."""

    # Few, short columns: the list must fit a laptop screen beside the admin's navigation.
    list_display = [
        "id",
        "what",
        "state",
        "queued",
        "duration",
        "centers",
        "stations",
        "voters",
        "pages",
        "pages_per_second",
        "tasks",
        "short_error",
        "download",
        "disk",
        "by",
    ]
    list_filter = ["option", "status"]
    list_select_related = ["center", "started_by"]
    fieldsets = [
        (None, {"fields": RUN_FIELDS}),
        # Thousands of links for a big run: folded until asked for.
        (
            "PDFs",
            {"fields": ["output_dir", "disk", "files_deleted", "roll_files"], "classes": ["collapse"]},
        ),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    def delete_model(self, request, obj):
        delete_run(obj)  # its rolls too

    def delete_queryset(self, request, queryset):
        """The list's bulk delete: every run with its rolls. (Django refuses the whole batch when
        it holds an active run: has_delete_permission.)"""
        for run in queryset:
            delete_run(run)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="voterroll_rollrun_start"),
            path("<int:pk>/again/", view(self.run_again_view), name="voterroll_rollrun_again"),
            path("<int:pk>/files.zip", view(self.download_zip_view), name="voterroll_rollrun_zip"),
            path("<int:pk>/files/<str:name>", view(self.download_file_view), name="voterroll_rollrun_file"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        fail_stalled()  # so that the list tells the truth without waiting for beat
        extra_context = {
            **(extra_context or {}),
            "duration_chart": duration_chart(),
            "can_start_runs": self.can_start_runs(request),
            # Reload by itself while a run can still change, as a report's page does.
            "run_active": active_run() is not None,
            "disk_used": self.disk_used(),
        }
        return super().changelist_view(request, extra_context)

    def disk_used(self):
        kept = RollRun.objects.filter(files_deleted_dt__isnull=True)
        total = kept.aggregate(total=Sum("file_bytes"))["total"] or 0
        return (
            f"Rolls of finished runs take {filesizeformat(total)} in storage; an ended run's are "
            f"deleted {settings.VOTERROLL_KEEP_FILES_DAYS} days after it ends (VOTERROLL_KEEP_FILES_DAYS)."
        )

    @admin.display(description="disk", ordering="file_bytes")
    def disk(self, run):
        if run.files_deleted_dt:
            return "deleted"
        return filesizeformat(run.file_bytes) if run.file_bytes else None

    @admin.display(description="option", ordering="option")
    def what(self, run):
        label = run.get_option_display()
        return f"{label}, center {run.center.number}" if run.center else label

    queued = moment("queued_dt", "queued")
    started = moment("started_dt", "started")
    finished = moment("finished_dt", "finished")
    files_deleted = moment("files_deleted_dt", "files deleted")

    @admin.display(description="status", ordering="status")
    def state(self, run):
        """Its status; while it runs, how far it has got (one run at most: one read of results)."""
        progress = run_progress(run)
        if progress is None or progress.share is None:
            return run.get_status_display()
        return f"{run.get_status_display()} · {progress.share:.0%}, {progress.elapsed:.0f} s"

    @admin.display(description="by")
    def by(self, run):
        return run.started_by.get_username() if run.started_by else (run.started_from or None)

    @admin.display(description="started by")
    def started_by_whom(self, run):
        who = run.started_by.get_username() if run.started_by else None
        if who and run.started_from:
            return f"{who} ({run.started_from})"
        return who or run.started_from or "-"

    @admin.display(description="duration")
    def duration(self, run):
        return seconds(run.duration) or "-"

    @admin.display(description="pages/s")
    def pages_per_second(self, run):
        """What a run of any size compares by: its duration alone depends on the voters."""
        if run.duration and run.pages:
            return f"{run.pages / run.duration.total_seconds():,.0f}"
        return "-"

    @admin.display(description="error")
    def short_error(self, run):
        return run.error[:40] + ("…" if len(run.error) > 40 else "")

    @admin.display(description="files")
    def download(self, run):
        if run.started_dt is None or run.files_deleted_dt:
            return None
        return format_html('<a href="{}">zip</a>', reverse("admin:voterroll_rollrun_zip", args=[run.pk]))

    @admin.display(description="files")
    def roll_files(self, run):
        """A finished run's files from its job record (one read, whatever the store); the files
        a failed run left, listed from storage; none while it runs (its page reloads every 2 s,
        and a listing of a big run's folder costs seconds)."""
        if run.files_deleted_dt:
            return None
        if run.status in RollRun.ACTIVE:
            return "Listed once the run has ended; the progress above counts what is written."
        entries = record.read_entries(run) if run.status == RollRun.Status.FINISHED else None
        if entries is None:
            return file_links(run, files.run_files(run.output_dir))
        return format_html(
            '<p><a href="{}">Download all as a zip</a> · {} · job record: {}</p>{}',
            reverse("admin:voterroll_rollrun_zip", args=[run.pk]),
            filesizeformat(run.file_bytes),
            file_links(run, [f"{run.output_dir}/{name}" for name in files.RECORD_FILES]),
            files_table(run, entries),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj:
            progress = run_progress(obj)
            context["progress"] = progress
            # Drawn across the page, under the fields: while it runs, from the tasks done so far.
            context["timeline"] = render_timeline(obj, progress.timeline if progress else None)
            context["can_run_again"] = obj.status not in RollRun.ACTIVE and self.can_start_runs(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def can_start_runs(self, request):
        return request.user.has_perm("voterroll.add_rollrun")

    def start_view(self, request):
        if not self.can_start_runs(request):
            raise PermissionDenied
        form = StartRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = start_run(
                    form.cleaned_data["option"], started_by=request.user, started_from="Start a run"
                )
            except RunRefused as refused:
                form.add_error("option", str(refused))
            else:
                return self.show_started_run(request, run, "Queued {}: its page shows it as it runs.")
        counts = VoterRegistration.objects.aggregate(
            voters=Count("*"), centers=Count("center_id", distinct=True)
        )
        voters, centers = counts["voters"], counts["centers"]
        registered = (
            f"A run prints {voters:,} registered voter{pluralize(voters)} in {centers:,} polling "
            f"center{pluralize(centers)}."
            if voters
            else "There are no registered voters yet: `manage.py create_fake_voter_data N` makes some."
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a voter-roll run",
            "opts": self.opts,
            "form": form,
            "choices": [(radio, Option(radio.data["value"])) for radio in form["option"]],
            "registered": registered,
        }
        return TemplateResponse(request, "admin/voterroll/rollrun/start.html", context)

    def run_again_view(self, request, pk):
        """Queue a new run of an ended run's option (and center): after a crash, say."""
        if request.method != "POST":
            return redirect("admin:voterroll_rollrun_change", pk)
        if not self.can_start_runs(request):
            raise PermissionDenied
        ended = get_object_or_404(RollRun, pk=pk)
        try:
            run = start_run(
                ended.option,
                center=ended.center,
                started_by=request.user,
                started_from=f"Run again of run {pk}",
            )
        except RunRefused as refused:
            self.message_user(request, str(refused), messages.WARNING)
            return redirect("admin:voterroll_rollrun_change", pk)
        return self.show_started_run(request, run, "Queued {}, again: its page shows it as it runs.")

    def show_started_run(self, request, run, message):
        """After a run is queued from here: its history says who, and the user lands on its page."""
        self.log_addition(request, run, [{"added": {}}])
        self.message_user(request, format_html(message, run_link(run)))
        return redirect("admin:voterroll_rollrun_change", run.pk)

    def viewable_run(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(RollRun, pk=pk)

    def download_file_view(self, request, pk, name):
        """One file of the run, streamed from storage after the permission check: never a
        public URL."""
        run = self.viewable_run(request, pk)
        # Only a name from the run's own listing: nothing outside its folder can be asked for.
        matches = [found for found in files.run_files(run.output_dir) if found.rsplit("/", 1)[-1] == name]
        if not matches:
            raise Http404("No such file in this run")
        try:
            found = files.open_file(matches[0])
        except FileNotFoundError:  # gone, or swapped for a link, since it was listed
            raise Http404("No such file in this run") from None
        return FileResponse(found, as_attachment=True, filename=name)

    def download_zip_view(self, request, pk):
        """Every file of the run (rolls, signs, its job record) as one zip, streamed as it is
        read from storage (files.zip_of).

        Named for what it holds: only a finished run's zip is the run's whole set of rolls.
        """
        run = self.viewable_run(request, pk)
        found = files.run_files(run.output_dir)
        if not found:
            raise Http404("This run has no files")
        name = f"voterroll-run-{run.pk}"
        if run.status != RollRun.Status.FINISHED:
            name += f"-{run.status}-incomplete"
        response = StreamingHttpResponse(files.zip_of(found), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        return response


class ImportRegisterForm(forms.Form):
    file = forms.FileField(
        label="Register",
        help_text="A CSV file, UTF-8, with a header row naming voter_number, name, gender, "
        "center_number and center_name (the README lists their aliases). It replaces every "
        "center and voter; a file with any wrong line changes nothing.",
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        limit = settings.VOTERROLL_REGISTER_MAX_BYTES
        if file.size > limit:
            raise forms.ValidationError(
                f"{file.name} is {filesizeformat(file.size)}; a register may be at most "
                f"{filesizeformat(limit)} (VOTERROLL_REGISTER_MAX_BYTES)."
            )
        return file

    def clean(self):
        """Refused at once while a run or another import is active, rather than by the task."""
        run = active_run()
        if run is not None:
            raise forms.ValidationError(f"Voter data cannot be replaced now: {busy_message(run)}")
        fail_stalled_uploads()
        importing = VoterRegister.objects.filter(status__in=VoterRegister.ACTIVE).first()
        if importing is not None:
            raise forms.ValidationError(f"{importing} is still {importing.status}; one import at a time.")
        return super().clean()


@admin.register(VoterRegister)
class VoterRegisterAdmin(WorkRecordAdmin):
    """Uploaded registers and how their import went; a new one comes in through import_view."""

    list_display = ["id", "file_name", "status", "uploaded", "uploaded_by", "progress", "voters", "centers"]
    list_filter = ["status"]
    list_select_related = ["uploaded_by"]
    fields = [
        *("file_name", "size_shown", "uploaded_by", "uploaded", "started", "finished"),
        *("status", "progress", "voters", "centers", "problems"),
    ]
    readonly_fields = fields

    def delete_model(self, request, obj):
        obj.file.delete(save=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for register in queryset:
            self.delete_model(request, register)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="voterroll_voterregister_import"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        fail_stalled_uploads()  # so that the list tells the truth
        extra_context = {
            **(extra_context or {}),
            "can_import": self.can_import(request),
            "import_active": VoterRegister.objects.filter(status__in=VoterRegister.ACTIVE).exists(),
        }
        return super().changelist_view(request, extra_context)

    def can_import(self, request):
        return request.user.has_perm("voterroll.add_voterregister")

    def import_view(self, request):
        if not self.can_import(request):
            raise PermissionDenied
        form = ImportRegisterForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            register = queue_upload(form.cleaned_data["file"], request.user)
            self.message_user(request, f"Uploaded {register}; a worker imports it.")
            return redirect("admin:voterroll_voterregister_change", register.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a voter register",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/voterroll/voterregister/import.html", context)

    @admin.display(description="file")
    def file_name(self, register):
        return register.file.name.rsplit("/", 1)[-1]

    @admin.display(description="size", ordering="size")
    def size_shown(self, register):
        return filesizeformat(register.size)

    uploaded = moment("queued_dt", "uploaded")
    started = moment("started_dt", "started")
    finished = moment("finished_dt", "finished")

    @admin.display(description="progress")
    def progress(self, register):
        if register.status == VoterRegister.Status.QUEUED:
            return "waiting for a worker"
        if register.status == VoterRegister.Status.CHECKING:
            share = register.checked / register.size if register.size else 0
            return format_html(
                '<progress max="1" value="{}"></progress> checking every line: {}',
                f"{share:.3f}",
                f"{share:.0%}",
            )
        if register.status == VoterRegister.Status.WRITING:
            return f"writing {register.voters:,} voters in one transaction"
        if register.status == VoterRegister.Status.IMPORTED:
            return f"imported in {seconds(register.finished_dt - register.started_dt)}"
        return register.outcome.partition("\n")[0] or None

    @admin.display(description="problems")
    def problems(self, register):
        if not register.outcome:
            return "none" if register.status == VoterRegister.Status.IMPORTED else ""
        return format_html('<pre class="register-problems">{}</pre>', register.outcome)
