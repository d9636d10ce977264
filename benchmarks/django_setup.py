"""Django for a benchmark script run as ``python benchmarks/<script>.py``, as manage.py sets it up.

The settings come from the environment (DJANGO_CONFIGURATION defaults to Dev), so a benchmark
measures the database and broker the developer points it at.
"""
import os
import sys
from pathlib import Path


def setup_django():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("DJANGO_CONFIGURATION", "Dev")
    from configurations import importer

    importer.install()
    import django

    django.setup()
