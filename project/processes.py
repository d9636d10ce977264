"""Start and stop processes of our own: test workers, a lesson's workers and beats.

Each in a process group of its own, stopped by its pid (the whole group) when done, also on
failure or Ctrl-C, and sent a signal by the kernel if the process that started it dies first.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


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


def dies_with_parent(sig):
    """A Popen preexec_fn: the child gets ``sig`` when this (its parent) thread exits.

    Runs after Popen's user= switch, which would clear it. Start services from the thread
    that lives as long as they should (pytest fixtures run on the main thread)."""
    parent = os.getpid()

    def preexec():
        _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)

    return preexec


def celery_command(app, *arguments):
    """``celery -A app …`` with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", app, *arguments]


def start(command, log_path, *, env, cwd):
    """``command`` in a new process group, its output to ``log_path``; a warm shutdown
    (SIGTERM) if this process dies, even by SIGKILL."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=dies_with_parent(signal.SIGTERM),
        )


def wait_ready(process, log_path, text=" ready.", timeout=60):
    """Wait until ``text`` is in the log (a Celery worker's " ready."); fail if it exits first."""
    wait_until(
        lambda: process.poll() is not None or text in log_path.read_text(),
        timeout=timeout,
        message=f"{log_path.stem} did not start; see {log_path}",
    )
    if process.poll() is not None:
        raise RuntimeError(f"{log_path.stem} exited at start-up; see {log_path}")


def stop(*started, timeout=30):
    """A warm shutdown of each process, as a process manager asks, all at once; SIGKILL to the
    whole group of any still running ``timeout`` seconds later. Whatever a group left running (a
    pool process whose parent died) goes too."""
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0, deadline - time.monotonic()))
        kill_group(process)


def kill_group(process):
    """SIGKILL every process left in ``process``'s group, and reap ``process``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def running(command, log_path, *, env, cwd, ready=" ready.", stop_timeout=30):
    """``command`` started and, once ``ready`` is in its log, yielded; stopped after the block."""
    process = start(command, log_path, env=env, cwd=cwd)
    try:
        wait_ready(process, log_path, ready)
        yield process
    finally:
        stop(process, timeout=stop_timeout)
