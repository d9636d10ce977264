import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout=30.0, interval=0.05, message="condition not met"):
    """Poll ``predicate`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (waited {timeout} s)")
        time.sleep(interval)


def manage(*args, env):
    """Run ``manage.py`` in a fresh process with ``env`` over the environment, minus any
    DJANGO_* / TEST_* variables of this run, so that it sees only what the test sets."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
