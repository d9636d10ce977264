import logging

from celery import shared_task
from django.conf import settings

from .broker import purge_processed_messages

logger = logging.getLogger(__name__)


@shared_task
def purge_processed_broker_messages():
    """Keep the filesystem broker's processed folder from growing without bound."""
    deleted = purge_processed_messages(
        settings.CELERY_BROKER_TRANSPORT_OPTIONS, settings.BROKER_PROCESSED_RETENTION
    )
    logger.info("Deleted %d processed broker message files", deleted)
    return deleted
