import os
import subprocess
import sys
from pathlib import Path

from project.processes import wait_until as wait_until  # a test's way to wait, too

BASE_DIR = Path(__file__).resolve().parent.parent


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
