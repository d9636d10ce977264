"""pytest plugin: the Test configuration with its files on a real S3 API, moto's standalone
server on a free 127.0.0.1 port. Load it with ``pytest -p tests.s3_stack`` (make test does, for
the voter-roll tests): like tests.faults_stack it must set the TEST_S3_* variables before
pytest-django reads the settings.

The server runs in this process (a thread); worker subprocesses reach it over HTTP, as they
would MinIO or AWS, and run in working folders of their own. After each test the bucket is
emptied, and nothing may have been written to the local media folder: a roll that passed by
way of a local file would fail the test that wrote it.
"""

import contextlib
import logging
import os
import shutil
from pathlib import Path

import pytest

BUCKET = "voterroll-test"
_store = {}


@contextlib.contextmanager
def moto_store(bucket):
    """moto's S3 server on a free 127.0.0.1 port, in this process, with an empty ``bucket``;
    yields the S3_* settings that reach it (benchmarks use it too)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # an access-log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        store = {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": f"http://{host}:{port}",
            "S3_REGION": "us-east-1",
            "S3_ADDRESSING_STYLE": "path",
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
        }
        with client(store) as s3:
            s3.create_bucket(Bucket=bucket)
        yield store
    finally:
        server.stop()


def client(store):
    """A boto3 client of the ``store`` moto_store made, closed at the end of a with block (an
    unclosed socket warns, and warnings are errors in the tests)."""
    import boto3

    return contextlib.closing(
        boto3.client(
            "s3",
            endpoint_url=store["S3_ENDPOINT_URL"],
            region_name=store["S3_REGION"],
            aws_access_key_id=store["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=store["S3_SECRET_ACCESS_KEY"],
        )
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    stack = contextlib.ExitStack()
    early_config.add_cleanup(stack.close)
    _store.update(stack.enter_context(moto_store(BUCKET)))
    os.environ.update({f"TEST_{name}": value for name, value in _store.items()})


def pytest_report_header(config):
    if _store:
        return f"storage: S3 bucket {BUCKET} on moto at {_store['S3_ENDPOINT_URL']}"


@pytest.fixture(autouse=True)
def s3_only():
    """Each test starts on an empty bucket; none leaves a roll in the local media folder."""
    from django.conf import settings

    local_media = Path(settings.VAR_DIR) / "media"
    shutil.rmtree(local_media, ignore_errors=True)
    yield
    with client(_store) as s3:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    written = [str(path) for path in local_media.rglob("*") if path.is_file()]
    assert not written, f"written to the local disk, not to S3: {written}"
