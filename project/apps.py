from django.apps import AppConfig
from django.conf import settings


class ProjectConfig(AppConfig):
    """Operations shared by both apps: broker housekeeping and the admin account command."""

    name = "project"
    verbose_name = "Operations"

    def ready(self):
        from . import checks  # noqa: F401 (registers the settings' checks)
        from .broker import ensure_folders

        # SQLite, the filesystem broker and the PDF writer all expect their folders to exist.
        ensure_folders(settings.VAR_DIR, settings.MEDIA_ROOT, settings.CELERY_BROKER_TRANSPORT_OPTIONS)
