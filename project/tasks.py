"""What every task of the project shares, and the broker's housekeeping."""

import logging
import time

from celery import Task, shared_task
from celery.exceptions import Reject
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

from .broker import drop_dead_queues, purge_processed_messages
from .outages import is_outage

logger = logging.getLogger(__name__)

# How long a task whose database went away waits before it goes back to the queue: one
# redelivery a second, not a busy loop, while the database restarts.
OUTAGE_PAUSE = 1.0


class DatabaseTask(Task):
    """Every task's base (project.celery): a database outage sends the task back to the queue.

    The tasks here are idempotent and acknowledged late, so a task whose database went away
    mid-way (restarted, failed over) is rejected with requeue and runs again, whole, once the
    database is back. Celery's own retry would count an attempt, and the reports' stories count
    their attempts, and it would give up after max_retries.
    """

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            if not is_outage(error):
                raise
            logger.warning(
                "%s[%s]: the database went away (%s); back to the queue", self.name, self.request.id, error
            )
            connections.close_all()
            time.sleep(OUTAGE_PAUSE)
            raise Reject(f"database outage: {error}", requeue=True) from error


@shared_task
def purge_processed_broker_messages():
    """Keep the filesystem broker's processed folder from growing without bound, and its queue
    folder from the events of a monitor that was killed (project.broker.drop_dead_queues)."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    deleted = purge_processed_messages(options, settings.BROKER_PROCESSED_RETENTION)
    logger.info("Deleted %d processed broker message files", deleted)
    if dropped := drop_dead_queues(options):
        logger.info("Dropped %d queues whose consumers died", dropped)
    return deleted
