"""The Celery app, configured from Django settings under the CELERY_ namespace."""
import os

from celery import Celery
from configurations import importer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_CONFIGURATION", "Dev")
# The settings module holds configuration classes; only this importer can load it.
importer.install()

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
