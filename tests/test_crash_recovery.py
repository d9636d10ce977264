"""What happens to a task when the process running it dies: on every broker, it runs again."""

import os
import signal

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


def test_a_task_whose_whole_worker_was_killed_runs_again_on_every_broker(worker, tmp_path):
    """RabbitMQ and Redis requeue what a dead connection had not acknowledged. kombu's filesystem
    transport would have lost it (the file already moved out of the queue); ours leaves it in
    the dead worker's claim folder, and the next worker to start puts it back."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-crash"
    deliveries = tmp_path / "deliveries"

    with running_worker("doomed", f"--queues={queue}", "--concurrency=1", "--purge") as doomed:
        task = record_delivery.apply_async((str(deliveries), 60), queue=queue)
        wait_until(deliveries.exists, message="the task never started")
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait()

    with running_worker("successor", f"--queues={queue}", "--concurrency=1"):
        assert task.get(timeout=60) == "done"
    assert deliveries.read_text() == "delivered\ndelivered\n"
