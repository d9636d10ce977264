"""How long a run's rolls are kept: deleted by staff, or VOTERROLL_KEEP_FILES_DAYS after it ended.

The run's record stays (with files_deleted_dt set): what ran, when and how is history.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import files
from .models import RollRun
from .runs import RunRefused

logger = logging.getLogger(__name__)


def delete_files(run: RollRun) -> int:
    """Delete an ended run's rolls and keep its record, marked so; return the bytes freed.

    An active run is refused: its tasks are still writing into the folder.
    """
    if run.status in RollRun.ACTIVE:
        raise RunRefused(f"{run} is still {run.status}; its rolls are being written.")
    freed = files.delete_folder(run.output_dir) if run.output_dir else 0
    RollRun.objects.filter(pk=run.pk).update(files_deleted_dt=timezone.now())
    logger.info("Deleted the rolls of %s: %d bytes", run, freed)
    return freed


def delete_run(run: RollRun) -> None:
    """Delete an ended run with its rolls: the files first, so that a failure leaves the record
    that names them."""
    delete_files(run)
    run.delete()


def delete_expired_files(now: datetime | None = None) -> int:
    """Delete the rolls of runs that ended more than VOTERROLL_KEEP_FILES_DAYS ago.

    Returns how many runs' folders it emptied.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.VOTERROLL_KEEP_FILES_DAYS)
    expired = RollRun.objects.ended().filter(finished_dt__lt=cutoff, files_deleted_dt__isnull=True)
    for run in expired:
        delete_files(run)
    return len(expired)
