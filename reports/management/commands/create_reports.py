from django.core.management.base import BaseCommand
from django.db import transaction

from project.arguments import positive_integer
from reports.models import REPORT_MODELS


class Command(BaseCommand):
    help = "Create reports of one kind, each sending its canvas, for demos and load."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=sorted(REPORT_MODELS))
        parser.add_argument("--count", type=positive_integer, default=1, help="how many (default 1)")

    def handle(self, *, kind, count, **options):
        report_model = REPORT_MODELS[kind]
        # One transaction: the canvases are sent after the commit, all or none.
        with transaction.atomic():
            reports = [report_model.objects.create() for _ in range(count)]
        ids = [report.pk for report in reports]
        self.stdout.write(f"Created {count} {kind} report(s), ids {ids[0]}–{ids[-1]}; canvases sent.")
