"""What the broker still holds for the workers: tells a task that waits from one that was lost.

The watchdogs (reports, voter-roll runs) give up on work that gave no sign of life for
minutes; a backlog must not pass for a loss. Under load a retry or a callback waits at the
back of the queue for longer than that, and a retry's countdown is spent in a worker's hands.
A task is alive while its message is where a worker will take it from: in the queue, or held
by a live worker (prefetched, waiting for its retry's countdown, or running: acks_late keeps
it unacknowledged until it ends).
"""

import base64
import os
import socket

from celery import current_app
from kombu.exceptions import ChannelError
from kombu.utils.json import loads

from .broker import alive

# Seconds the workers have to say what they hold (RabbitMQ, Redis).
INSPECT_TIMEOUT = 1.0


def held_tasks(app=None):
    """(task name, args, kwargs) of each message of the default queue that a live worker will
    run; None when the broker cannot tell, because its queue has messages only a consumer
    could read (RabbitMQ, Redis) while a worker consumes it: a watchdog then takes nothing for
    lost until the queue is empty. Messages queued while no worker is alive are held by nobody:
    after a crash a watchdog gives up on them, and a callback that runs later still counts.

    The filesystem broker lists them all: the queue's folder, then what live consumers on this
    host claimed (another host's claims count as held). A message claimed between the two looks
    is found in the second.
    """
    app = app or current_app
    queue = app.conf.task_default_queue
    options = app.conf.broker_transport_options or {}
    if "claimed_folder" in options:
        return _filesystem_held(options, f".{queue}.msg")
    return _workers_held(app, queue)


def _filesystem_held(options, suffix):
    queued = list(_messages(options["data_folder_in"], suffix))
    host = socket.gethostname()
    with os.scandir(options["claimed_folder"]) as owners:
        consumers = [owner.path for owner in owners if _live_owner(owner.name, host)]
    claimed = [message for folder in consumers for message in _messages(folder, suffix)]
    return (queued if consumers else []) + claimed


def _live_owner(name, host):
    owner_host, _, pid = name.rpartition("-")
    return owner_host != host or not pid.isdigit() or alive(int(pid))


def _messages(folder, suffix):
    try:
        names = [name for name in os.listdir(folder) if name.endswith(suffix)]
    except FileNotFoundError:  # a consumer's folder, gone as it stopped
        return
    for name in names:
        try:
            with open(os.path.join(folder, name), "rb") as file:
                payload = loads(file.read())
        except FileNotFoundError:  # claimed, or acknowledged, since the listing
            continue
        args, kwargs, _ = loads(base64.b64decode(payload["body"]))
        yield payload["headers"]["task"], args, kwargs


def _workers_held(app, queue):
    with app.connection_for_read() as connection:
        queued = _queued(connection, queue)
        inspect = app.control.inspect(timeout=INSPECT_TIMEOUT, connection=connection)
        replies = [method() or {} for method in (inspect.active, inspect.reserved, inspect.scheduled)]
        # Sent after the first count and taken by no worker yet: in the queue now.
        queued = queued or _queued(connection, queue)
    if queued and any(replies):
        return None
    held = []
    for reply in replies:
        for requests in reply.values():
            for request in requests:
                request = request.get("request", request)  # scheduled() wraps each one
                held.append((request["name"], request["args"], request["kwargs"]))
    return held


def _queued(connection, queue):
    """How many messages wait in ``queue`` for a consumer."""
    try:
        return connection.default_channel.queue_declare(queue, passive=True).message_count
    except ChannelError:  # no such queue yet: nothing was ever sent to it
        return 0
