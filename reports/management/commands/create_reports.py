from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from project.arguments import positive_integer
from project.outages import commands_refuse_outages
from reports.models import REPORT_MODELS

# Each report sends a canvas of three tasks that run for up to minutes at full scale.
MAX_REPORTS = 1_000


class Command(BaseCommand):
    help = "Create reports of one kind, each sending its canvas, for demos and load."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=sorted(REPORT_MODELS))
        parser.add_argument(
            "--count",
            type=positive_integer(MAX_REPORTS),
            default=1,
            help=f"how many, up to {MAX_REPORTS:,} (default 1)",
        )

    def handle(self, *, kind, count, **options):
        report_model = REPORT_MODELS[kind]
        # One transaction: the canvases are sent after the commit, all or none.
        try:
            with commands_refuse_outages(), transaction.atomic():
                reports = [report_model.objects.create(created_from="create_reports") for _ in range(count)]
        except KeyboardInterrupt:
            raise CommandError("Interrupted: no report created, no canvas sent.", returncode=130) from None
        ids = f"ids {reports[0].pk}–{reports[-1].pk}"
        refused = sum(not report.is_celery_task_sent for report in reports)
        if refused:
            raise CommandError(
                f"Created {count} {kind} report(s), {ids}, but the broker refused {refused} "
                "canvas(es); those reports are marked Error. Is the broker running?"
            )
        self.stdout.write(f"Created {count} {kind} report(s), {ids}; canvases sent.")
