"""kombu's filesystem transport, the embedded default broker: atomic writes and housekeeping."""
import os
import time
import uuid
from pathlib import Path

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "control_folder", "processed_folder")


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
    if not folder or not transport_options.get("store_processed"):
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


class FilesystemChannel(filesystem.Channel):
    """kombu's filesystem channel, except that a message appears in the queue folder whole.

    kombu creates the message file under its final name and then writes it, so a consumer
    polling the folder can claim it still empty and die on the JSON (a test worker did, once in
    about ten runs). Here the message is written under a name no queue matches, then renamed.
    """

    def _put(self, queue, payload, **kwargs):
        # kombu's naming: the millisecond prefix keeps the queue first-in, first-out.
        name = f"{int(round(time.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "w", encoding="utf-8") as message:
                message.write(dumps(payload))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add message {final!r} to the queue folder") from error


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
    # The broker is a folder: no host to default to (kombu would warn, on every connection,
    # that it fell back to localhost).
    default_connection_params = {}
