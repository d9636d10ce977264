"""Every setting the project defines is checked at start: a value out of its range stops
`manage.py check` and the worker with one line naming it."""

import os
import signal
import subprocess
import sys

import pytest

from project.checks import ranges
from tests.utils import BASE_DIR, manage

RANGES = {name: (lowest, highest) for name, lowest, highest in ranges()}


def out_of_range(pick):
    """A value for each setting just outside its range: below it, or above it."""
    chosen = {}
    for name, (lowest, highest) in RANGES.items():
        if name == "VOTERROLL_MIXED_STATION_BELOW":
            chosen[name] = -1 if pick == "below" else 501  # above the default station size
        elif isinstance(lowest, float) or isinstance(highest, float) or name.endswith("_RATE"):
            chosen[name] = lowest - 0.0001 if pick == "below" else highest * 2
        else:
            chosen[name] = lowest - 1 if pick == "below" else highest + 1
    return chosen


@pytest.mark.parametrize("pick", ["below", "above"])
def test_check_refuses_each_setting_out_of_its_range_with_one_line(tmp_path, pick):
    bad = out_of_range(pick)
    if pick == "above":
        bad["VOTERROLL_STATION_SIZE"] = 100_001
        bad["VOTERROLL_MIXED_STATION_BELOW"] = 100_002

    result = manage("check", env={**{k: str(v) for k, v in bad.items()}, "VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    lines = result.stderr.splitlines()
    for name in RANGES:
        mine = [line for line in lines if f") {name}=" in line]
        assert len(mine) == 1, (name, result.stderr)
        assert "must be between" in mine[0]
    assert "Traceback" not in result.stderr


def test_the_issues_examples_read_as_one_line_each(tmp_path):
    env = {"VOTERROLL_STATION_SIZE": "0", "REPORTS_TIME_SCALE": "-1", "REPORTS_FAILURE_RATE": "2"}

    result = manage("check", env={**env, "VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "(project.E001) VOTERROLL_STATION_SIZE=0 must be between 1 and 100000" in result.stderr
    assert "(project.E001) REPORTS_TIME_SCALE=-1.0 must be between 0.001 and 100" in result.stderr
    assert "(project.E001) REPORTS_FAILURE_RATE=2.0 must be between 0 and 1" in result.stderr


def test_the_defaults_pass(tmp_path):
    result = manage("check", env={"VAR_DIR": str(tmp_path)})

    assert result.returncode == 0, result.stderr


def test_an_unknown_lockout_parameter_is_refused(tmp_path):
    result = manage("check", env={"AXES_LOCKOUT_PARAMETERS": "username,cookie", "VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "(project.E002) AXES_LOCKOUT_PARAMETERS='username,cookie' must be one or more of" in result.stderr


def test_a_worker_refuses_to_start_with_a_setting_out_of_range(tmp_path):
    """Celery runs the checks at start but ignores their errors; this worker exits with them."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))},
        "DJANGO_CONFIGURATION": "Dev",
        "VAR_DIR": str(tmp_path),
        "VOTERROLL_STATION_SIZE": "0",
    }
    command = [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool=solo", "--without-mingle"]
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode != 0
    assert "(project.E001) VOTERROLL_STATION_SIZE=0 must be between 1 and 100000" in stderr
    assert "Traceback" not in stderr
