"""The stack the settings choose: a database from its URL, the broker's transport options, where files go."""

from pathlib import Path

import dj_database_url


def database_config(url, sqlite_timeout=30):
    """A DATABASES entry for ``url``; SQLite is tuned for several writing processes, each
    waiting up to ``sqlite_timeout`` seconds for the write lock.

    Connections are kept between requests and tasks (a new PostgreSQL connection costs more
    than a station's query), and checked before reuse so that a restarted server costs one
    reconnect, not an error.
    """
    config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # web, beat and every worker child write. BEGIN IMMEDIATE takes the write lock up
            # front, so a transaction waits for it (up to ``timeout`` seconds) instead of
            # failing with "database is locked" when it tries to upgrade a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": sqlite_timeout,
            # WAL lets readers go on beside the one writer.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


def broker_transport_options(broker_url, var_dir, polling_interval):
    """Transport options for the broker that ``broker_url`` names."""
    scheme = broker_url.partition("://")[0]
    if scheme == "filesystem":
        folder = Path(var_dir).resolve() / "broker"
        return {
            # Absolute paths: kombu's defaults are relative to whatever the cwd is.
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            # A consumer claims a message by renaming it into claimed/, and moves it on to
            # processed/ when it is acknowledged (project.broker). On the queue's filesystem, so
            # that each move is an atomic rename (a move to another filesystem is copy-then-
            # delete, and two workers could both read one message).
            # project.tasks.purge_processed_broker_messages empties processed/.
            "claimed_folder": str(folder / "claimed"),
            "processed_folder": str(folder / "processed"),
            "polling_interval": polling_interval,
        }
    if scheme in ("redis", "rediss"):
        # A task not acknowledged within this many seconds is delivered again, to another
        # worker. It has to outlast the longest task and the longest retry countdown.
        return {"visibility_timeout": 2 * 60 * 60}
    return {}


def media_storage(settings):
    """STORAGES["default"]: an S3-compatible bucket when ``settings.S3_BUCKET`` is set, else
    the file system under MEDIA_ROOT."""
    if not settings.S3_BUCKET:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # at MEDIA_ROOT
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": settings.S3_BUCKET,
            "endpoint_url": settings.S3_ENDPOINT_URL,
            "region_name": settings.S3_REGION,
            "access_key": settings.S3_ACCESS_KEY_ID,
            "secret_key": settings.S3_SECRET_ACCESS_KEY,
            # One object per name: a unit run twice replaces its roll (False would add a
            # renamed copy). Private: no ACL, nothing public; staff download through the admin.
            "file_overwrite": True,
            "default_acl": None,
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": settings.S3_ADDRESSING_STYLE},
                # botocore 1.36+ adds checksums every upload by default, which some
                # S3-compatible stores refuse; only where the API requires them.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        },
    }
