"""Fixtures the reports tests share; a test module imports the ones it uses."""
import threading

import pytest

from reports.models import Report


@pytest.fixture
def sent(monkeypatch):
    """The (kind, id) of each report whose canvas is sent, recorded instead of sent."""
    sent = []
    lock = threading.Lock()  # saves on several threads at once

    def record(report):
        with lock:
            sent.append((report.kind, report.pk))

    monkeypatch.setattr(Report, "send_canvas", record)
    return sent
