"""The embedded broker hands out work as fast as the worker frees up, and still loses nothing."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection, Consumer, Exchange, Producer, Queue

from project import broker
from project.broker import FilesystemTransport, ensure_folders
from project.stack import broker_transport_options
from tests.tasks import record_delivery
from tests.utils import wait_until
from tests.workers import running_worker


@pytest.fixture
def connection(tmp_path):
    options = broker_transport_options("filesystem://", tmp_path, polling_interval=0.1)
    ensure_folders(tmp_path, tmp_path / "media", options)
    with Connection("filesystem://", transport=FilesystemTransport, transport_options=options) as conn:
        yield conn


def test_messages_come_out_oldest_first_also_those_written_after_a_look(connection):
    queue = connection.SimpleQueue("fifo")
    for n in range(3):
        queue.put(n)

    received = []
    for n in range(3, 6):
        message = queue.get(timeout=1)  # the first look lists 0, 1 and 2; 3 to 5 come later
        received.append(message.payload)
        message.ack()
        queue.put(n)
    while len(received) < 6:
        message = queue.get(timeout=1)
        received.append(message.payload)
        message.ack()

    assert received == [0, 1, 2, 3, 4, 5]
    queue.close()


def test_a_message_another_consumer_claimed_first_is_skipped(connection):
    queue = connection.SimpleQueue("shared")
    queue.put("first")
    queue.put("second")
    folder = connection.transport_options["data_folder_in"]
    first = queue.get(timeout=1)  # lists both names
    first.ack()
    claimed_elsewhere = next(name for name in os.listdir(folder) if name.endswith(".shared.msg"))
    os.rename(os.path.join(folder, claimed_elsewhere), os.path.join(folder, "..", claimed_elsewhere))
    queue.put("third")

    message = queue.get(timeout=1)

    assert (first.payload, message.payload) == ("first", "third")
    message.ack()
    queue.close()


def test_an_acknowledgement_wakes_a_consumer_waiting_for_a_prefetch_slot(connection, monkeypatch):
    """With one message unacknowledged and a prefetch of one, the next one waits for the ack.

    The consumer's next look is a minute away here, so it would look again only at the end of
    the 30 s it is given: only the acknowledgement itself gets the second message out earlier.
    """
    monkeypatch.setattr(broker, "FIRST_RETRY", 60)
    received = []
    channel = connection.channel()
    queue = Queue("slots", Exchange("slots"), "slots")
    producer = Producer(channel)
    for body in ("one", "two"):
        producer.publish(body, exchange=queue.exchange, routing_key="slots", declare=[queue])
    consumer = Consumer(
        channel, [queue], prefetch_count=1, callbacks=[lambda body, message: received.append(message)]
    )
    with consumer:
        connection.drain_events(timeout=5)
        assert [message.payload for message in received] == ["one"]

        threading.Timer(0.5, received[0].ack).start()
        asked = time.monotonic()
        connection.drain_events(timeout=30)
        waited = time.monotonic() - asked

    assert [message.payload for message in received] == ["one", "two"]
    assert waited < 15  # not the next look, at the 30 s deadline
    received[1].ack()


def test_warm_shutdown_hands_back_prefetched_messages_and_runs_each_task_to_its_end(worker, tmp_path):
    """SIGTERM lets the running task finish, and the messages the worker holds but has not
    started (one more than its processes on the filesystem broker) go back to the queue for the next one."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-shutdown"
    markers = [tmp_path / f"task-{n}" for n in range(6)]
    with running_worker("stopping", f"--queues={queue}", "--concurrency=1", "--purge") as stopping:
        tasks = [record_delivery.apply_async((str(marker), 1.0), queue=queue) for marker in markers]
        wait_until(markers[0].exists, message="the first task never started")
        stopping.send_signal(signal.SIGTERM)
        stopping.wait(timeout=30)
    started = [marker for marker in markers if marker.exists()]
    assert len(started) < len(markers)  # some were only prefetched when the worker stopped

    with running_worker("successor", f"--queues={queue}", "--concurrency=1"):
        results = [task.get(timeout=60) for task in tasks]

    assert results == ["done"] * len(markers)
    assert Path(markers[0]).read_text() == "delivered\n"  # finished before the worker exited


def test_a_message_is_held_in_its_consumers_claims_until_acknowledged(connection):
    options = connection.transport_options
    queue = connection.SimpleQueue("held")
    queue.put("work")

    message = queue.get(timeout=1)
    (claims,) = os.listdir(options["claimed_folder"])
    assert claims == f"{socket.gethostname()}-{os.getpid()}"
    assert len(os.listdir(os.path.join(options["claimed_folder"], claims))) == 1
    message.ack()

    assert not os.listdir(os.path.join(options["claimed_folder"], claims))
    assert [name.endswith(".held.msg") for name in os.listdir(options["processed_folder"])] == [True]
    queue.close()


def test_what_a_dead_consumer_held_goes_back_to_the_queue_and_a_live_ones_stays(connection):
    options = connection.transport_options
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    for owner in (f"{host}-{dead.pid}", f"{host}-{os.getpid()}"):
        folder = os.path.join(options["claimed_folder"], owner)
        os.makedirs(folder)
        Path(folder, f"00000000000000000001_{owner}.held.msg").write_text("{}")

    connection.default_channel.recover_claims()

    assert os.listdir(options["data_folder_in"]) == [f"00000000000000000001_{host}-{dead.pid}.held.msg"]
    assert os.listdir(options["claimed_folder"]) == [f"{host}-{os.getpid()}"]  # alive: not touched


MONITOR = """
import time
from kombu import Connection, Exchange, Queue
from project.broker import FilesystemTransport

with Connection("filesystem://", transport=FilesystemTransport, transport_options={options!r}) as conn:
    Queue("events.dead", Exchange("events", type="fanout"), auto_delete=True)(conn.default_channel).declare()
    print("bound", flush=True)
    time.sleep(60)
"""


def test_a_dead_monitors_event_queue_is_unbound_and_emptied_and_a_live_ones_stays(connection):
    """Flower binds a queue of its own to the events' exchange; killed, it leaves the
    binding behind, and every event would pile up in a queue nobody reads."""
    options = connection.transport_options

    def queued():
        return sorted(name.partition(".")[2] for name in os.listdir(options["data_folder_in"]))

    events = Exchange("events", type="fanout")
    command = [sys.executable, "-c", MONITOR.format(options=options)]
    monitor = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True)
    assert monitor.stdout.readline() == "bound\n"
    Queue("events.live", events, auto_delete=True)(connection.default_channel).declare()
    producer = Producer(connection.default_channel, exchange=events)
    producer.publish("heartbeat")
    assert queued() == ["events.dead.msg", "events.live.msg"]
    monitor.kill()
    monitor.communicate()

    assert broker.drop_dead_queues(options) == 1

    assert queued() == ["events.live.msg"]
    producer.publish("heartbeat")
    assert queued() == ["events.live.msg"] * 2
    assert broker.drop_dead_queues(options) == 0
