"""kombu's filesystem transport, the embedded default broker: atomic, quick, and it loses nothing.

kombu's own transport writes a message file in place (a consumer can read it half-written),
lists and sorts the whole queue folder for every message it takes (quadratic in the queue's
length), and after each empty poll sleeps the full polling interval, even when the poll was
empty only because the worker's prefetch limit was reached: with acks_late a slot frees up
when a task ends, but the worker noticed only at its next look, up to 0.1 s later, so short
tasks ran at about 20 a second whatever the CPU could do. And a worker killed outright lost
every message it had taken. This one fixes all four.
"""

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections import deque
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "control_folder", "claimed_folder", "processed_folder")

logger = logging.getLogger(__name__)

# After a look that found nothing, the next comes this soon, then twice as late each time, up to
# the polling interval: quick while work trickles in, a few looks a second when idle.
FIRST_RETRY = 0.001


def ensure_folders(var_dir, media_root, transport_options):
    """Create the data folders; kombu's filesystem transport does not create its own."""
    folders = [var_dir, media_root]
    folders += [transport_options[key] for key in FOLDER_OPTIONS if key in transport_options]
    for folder in folders:
        Path(folder).mkdir(parents=True, exist_ok=True)


def purge_processed_messages(transport_options, older_than):
    """Delete processed message files older than ``older_than`` seconds; return how many.

    A no-op for brokers that keep no processed files (RabbitMQ, Redis).
    """
    folder = transport_options.get("processed_folder")
    if not folder:
        return 0
    cutoff = time.time() - older_than
    deleted = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.remove(entry.path)
                    deleted += 1
            except FileNotFoundError:  # another clean-up got there first
                continue
    return deleted


# In the control folder, beside kombu's exchange tables: the auto-delete queues each process on
# each host declared, one file per process, named ``<host>-<pid>`` and this suffix.
DECLARED = ".queues"


def drop_dead_queues(transport_options):
    """Unbind and empty the auto-delete queues that processes on this host, now dead, declared;
    return how many.

    An event monitor (Flower, ``celery events``) and each worker's remote control bind a queue
    of their own to a topic or fanout exchange; on AMQP it goes when they do. kombu's transport
    keeps the binding in the control folder for ever, so every event (a worker's heartbeat every
    2 s, four per task) would pile up in a queue nobody reads. A queue a live process declared
    too (a restarted worker's, same name) stays.
    """
    if "control_folder" not in transport_options:  # RabbitMQ, Redis: their own business
        return 0
    control = Path(transport_options["control_folder"])
    host = socket.gethostname()
    live, dead, records = set(), set(), []
    for record in control.glob(f"*{DECLARED}"):
        owner_host, _, pid = record.name.removesuffix(DECLARED).rpartition("-")
        queues = set(record.read_text().split())
        if owner_host == host and pid.isdigit() and not alive(int(pid)):
            dead |= queues
            records.append(record)
        else:
            live |= queues
    dead -= live
    if dead:
        for table in control.glob("*.exchange"):
            unbind(table, dead)
        folder = transport_options["data_folder_in"]
        for name in os.listdir(folder):
            if name.partition(".")[2].removesuffix(".msg") in dead:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(folder, name))
    for record in records:
        record.unlink(missing_ok=True)
    return len(dead)


def unbind(table, queues):
    """Remove ``queues`` from an exchange's table, under the lock kombu's writers take."""
    with open(table, "rb+", buffering=0) as file:
        filesystem.lock(file, filesystem.LOCK_EX)
        try:
            bindings = loads(file.read())
            kept = [binding for binding in bindings if binding[2] not in queues]
            if len(kept) < len(bindings):
                file.seek(0)
                file.truncate()
                file.write(dumps(kept).encode())
        finally:
            filesystem.unlock(file)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class FilesystemChannel(filesystem.Channel):
    """A queue is a folder of message files; a consumer claims one by renaming it away.

    A claimed message sits in ``claimed/<host>-<pid>/`` of the consuming process until it is
    acknowledged (then it moves to ``processed/``, kept a while for inspection) or handed back.
    A worker killed outright (SIGKILL, a power cut) leaves its claims there, and the next
    consumer on this host to start puts them back in the queue: kombu's own transport loses
    them. All these folders are on one filesystem, so every move is an atomic rename
    (project.settings names them).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per queue, names from the last listing not yet tried, oldest first.
        self._listed = {}
        # Delivery tag -> the file of each message this process holds.
        self._claims = {}
        self._claim_folder = os.path.join(self.claimed_folder, f"{socket.gethostname()}-{os.getpid()}")
        # The auto-delete queues this process declared, and the file that records them.
        self._auto_delete = set()
        self._declared = os.path.join(self.control_folder, f"{socket.gethostname()}-{os.getpid()}{DECLARED}")

    @property
    def claimed_folder(self):
        return self.transport_options["claimed_folder"]

    def _put(self, queue, payload, **kwargs):
        """Write the message under a name no queue matches, then rename it into the queue.

        kombu creates the file under its final name and then writes it, so a polling consumer
        could claim it still empty and die on the JSON (a test worker did, once in about ten
        runs).
        """
        # The time prefix keeps the queue first-in, first-out: in nanoseconds (kombu's are
        # milliseconds, in which a burst of messages comes out in random order), zero-padded so
        # that names sort as numbers.
        name = f"{time.monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "w", encoding="utf-8") as message:
                message.write(dumps(payload))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add message {final!r} to the queue folder") from error

    def _get(self, queue):
        """Claim the oldest message of ``queue``: list the folder once, then take names in turn.

        A name another consumer claimed first fails to rename and is skipped; messages written
        since the listing are found when the listed ones run out.
        """
        listed = self._listed.get(queue)
        if not listed:
            wanted = f"{queue}.msg"
            names = (name for name in os.listdir(self.data_folder_in) if name.partition(".")[2] == wanted)
            listed = self._listed[queue] = deque(sorted(names))
        os.makedirs(self._claim_folder, exist_ok=True)
        while listed:
            name = listed.popleft()
            claimed = os.path.join(self._claim_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue
            try:
                with open(claimed, "rb") as message:
                    payload = loads(message.read())
            except OSError as error:
                raise ChannelError(f"Cannot read message {claimed!r}") from error
            self._claims[payload["properties"]["delivery_tag"]] = claimed
            return payload
        raise Empty()

    def _release(self, delivery_tag, done):
        """Let go of a claimed message: to processed/ when ``done``, else away (handed back)."""
        claimed = self._claims.pop(delivery_tag, None)
        if claimed is None:
            return
        with contextlib.suppress(FileNotFoundError):
            if done:
                os.replace(claimed, os.path.join(self.processed_folder, os.path.basename(claimed)))
            else:
                os.remove(claimed)

    def _restore(self, message):
        """Hand a message back (a warm shutdown, a rejection): a copy goes to the queue first."""
        super()._restore(message)
        self._release(message.delivery_tag, done=False)

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._release(delivery_tag, done=True)
        self.connection.wake()

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue)
        self._release(delivery_tag, done=not requeue)
        self.connection.wake()

    def queue_declare(self, queue=None, passive=False, **kwargs):
        """Record an auto-delete queue as this process's, for drop_dead_queues once it is gone."""
        declared = super().queue_declare(queue, passive, **kwargs)
        if kwargs.get("auto_delete") and not passive and declared.queue not in self._auto_delete:
            self._auto_delete.add(declared.queue)
            with open(self._declared, "a", encoding="utf-8") as record:
                record.write(f"{declared.queue}\n")
        return declared

    def basic_consume(self, queue, *args, **kwargs):
        self.recover_claims()
        drop_dead_queues(self.transport_options)
        return super().basic_consume(queue, *args, **kwargs)

    def recover_claims(self):
        """Put back in the queue what consumers on this host that have died still held."""
        host = socket.gethostname()
        for entry in os.scandir(self.claimed_folder):
            owner_host, _, pid = entry.name.rpartition("-")
            if owner_host != host or not pid.isdigit() or alive(int(pid)):
                continue
            names = os.listdir(entry.path)
            for name in names:
                with contextlib.suppress(FileNotFoundError):  # another consumer got there first
                    os.rename(os.path.join(entry.path, name), os.path.join(self.data_folder_in, name))
            with contextlib.suppress(OSError):
                os.rmdir(entry.path)
            if names:
                logger.warning(
                    "Put back %d message(s) that dead consumer %s had claimed", len(names), entry.name
                )


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
    # The broker is a folder: no host to default to (kombu would warn, on every connection,
    # that it fell back to localhost).
    default_connection_params = {}

    # Every transport of this process, for stop_waiting.
    _instances = weakref.WeakSet()

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        self._woken = threading.Event()
        self._stopping = False
        self._instances.add(self)

    def wake(self):
        """A message was acknowledged (in the pool's result thread): a prefetch slot is free."""
        self._woken.set()

    @classmethod
    def stop_waiting(cls):
        """The worker is shutting down: end every wait for a message now (TimeoutError), not
        at the end of Celery's 2 s timeout, between whose calls it looks for a shutdown."""
        for transport in list(cls._instances):
            transport._stopping = True
            transport._woken.set()

    def drain_events(self, connection, timeout=None):
        """Deliver one message; between empty looks wait, but wake at once when a slot frees up."""
        started = time.monotonic()
        retry_in = FIRST_RETRY
        while not self._stopping:
            self._woken.clear()
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            waited = time.monotonic() - started
            if timeout is not None and waited >= timeout:
                raise TimeoutError()
            if timeout is not None:
                retry_in = min(retry_in, timeout - waited)
            retry_in = FIRST_RETRY if self._woken.wait(retry_in) else min(2 * retry_in, self.polling_interval)
        raise TimeoutError()
