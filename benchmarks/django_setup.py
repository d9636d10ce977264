"""Django for a benchmark script run as ``python benchmarks/<script>.py``, as manage.py sets it up.

The settings come from the environment (DJANGO_CONFIGURATION defaults to Dev), so a benchmark
measures the database and broker the developer points it at; ``configuration`` picks another.
"""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def setup_django(configuration=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    if configuration:
        os.environ["DJANGO_CONFIGURATION"] = configuration
    os.environ.setdefault("DJANGO_CONFIGURATION", "Dev")
    from configurations import importer

    importer.install()
    import django

    django.setup()
