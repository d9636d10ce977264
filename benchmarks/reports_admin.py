"""Pages per second of the reports' admin list and change pages, and queries per page.

    .venv/bin/python benchmarks/reports_admin.py [REPORTS]

Builds REPORTS (default 500) chord reports with a typical story each (four attempts, one
retry, the callback) in a throwaway SQLite database, then renders the changelist (100 rows
a page) and change pages (inline logs and the SVG timeline) through Django's test client.
"""

import os
import sys
import tempfile
import time
from datetime import timedelta

from django_setup import setup_django

ROUNDS = 20


def add_finished_reports(model, count, created, **fields):
    """``count`` finished reports of ``model`` (ReportChord or ReportGroup) created at
    ``created``, each with a typical story's task logs: medium fails once and is retried."""
    from reports.models import Status

    story = [  # (step, retry, status, seconds after ``created``)
        ("short", 0, Status.FINISHED, 2),
        ("medium", 0, Status.ERROR, 5),
        ("medium", 1, Status.FINISHED, 9),
        ("long", 0, Status.FINISHED, 14),
        ("finished", 0, Status.FINISHED, 14),
    ]
    reports = model.objects.bulk_create(
        model(status=Status.FINISHED, is_celery_task_sent=True, **fields) for _ in range(count)
    )
    log_model = model.log_model()
    log_model.objects.bulk_create(
        log_model(
            report=report,
            task_name=f"report_{model.kind}_{step}",
            retry=retry,
            status=status,
            finished_dt=created + timedelta(seconds=end),
        )
        for report in reports
        for step, retry, status, end in story
    )
    return reports


def main(count):
    # The Test configuration in a folder of its own: a throwaway SQLite database.
    os.environ["TEST_VAR_DIR"] = tempfile.mkdtemp(prefix="reports-bench-")
    setup_django("Test")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from reports.models import ReportChord

    call_command("migrate", verbosity=0)
    reports = add_finished_reports(ReportChord, count, timezone.now())
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.create_superuser("bench", password="bench-only"))

    for label, url in [
        ("changelist, 100 rows", "/admin/reports/reportchord/"),
        ("change page", f"/admin/reports/reportchord/{reports[0].pk}/change/"),
    ]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        # Counted now: captured_queries reads the log lazily, and each request below clears it.
        query_count = len(queries)
        began = time.perf_counter()
        for _ in range(ROUNDS):
            client.get(url)
        per_second = ROUNDS / (time.perf_counter() - began)
        print(f"{label:22} {per_second:7.1f} pages/s  {query_count:3d} queries/page  ({count} reports)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
