"""What happens to a task when the process running it dies, per broker."""
import os
import signal
from pathlib import Path

from django.conf import settings

from tests.tasks import die_once, record_delivery
from tests.utils import wait_until
from tests.workers import running_worker


def test_task_whose_pool_process_dies_is_delivered_again(worker, tmp_path):
    """acks_late + reject_on_worker_lost: the main process hands the message back."""
    marker = tmp_path / "died"

    result = die_once.delay(str(marker))

    assert result.get(timeout=60) == "delivered again"
    assert marker.read_text() == "died"


def test_killing_a_whole_worker_loses_its_task_on_the_filesystem_broker_only(worker, tmp_path):
    """RabbitMQ requeues what a dead connection had not acknowledged; kombu's filesystem
    transport already moved the message file out of the queue when the worker fetched it."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-crash"
    deliveries = tmp_path / "deliveries"

    with running_worker("doomed", f"--queues={queue}", "--concurrency=1", "--purge") as doomed:
        task = record_delivery.apply_async((str(deliveries), 60), queue=queue)
        wait_until(deliveries.exists, message="the task never started")
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait()

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # Nothing is left to deliver again: the message sits among the processed files.
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        suffix = f".{queue}.msg"
        assert not [name for name in os.listdir(options["data_folder_in"]) if name.endswith(suffix)]
        claimed = Path(options["processed_folder"]).glob(f"*{suffix}")
        assert any(task.id in message.read_text() for message in claimed)
    else:
        with running_worker("successor", f"--queues={queue}", "--concurrency=1"):
            wait_until(lambda: deliveries.read_text().count("delivered") == 2, timeout=30)
