"""Housekeeping for kombu's filesystem transport, the embedded default broker."""
import os
import time
from pathlib import Path

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
