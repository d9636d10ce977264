"""The Celery app, configured from Django settings under the CELERY_ namespace."""

import os
import signal

from celery import Celery, signals
from configurations import importer

from .broker import FilesystemTransport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_CONFIGURATION", "Dev")
# The settings module holds configuration classes; only this importer can load it.
importer.install()

# Every task outlives a database outage (project.tasks.DatabaseTask).
app = Celery("project", task_cls="project.tasks:DatabaseTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_bad_settings(**kwargs):
    """Stop a worker or beat whose settings fail a system check (project.checks), one line
    each. Celery's Django fixup runs the checks at start but ignores what they find."""
    from django.core.checks import run_checks

    errors = [str(message) for message in run_checks() if message.is_serious()]
    if errors:
        raise SystemExit("Refusing to start:\n" + "\n".join(errors))


@signals.worker_init.connect
def wait_out_a_broker_restart(**kwargs):
    """In a worker, a task that sends another (a chord's body, a retry) waits up to about two
    minutes for the broker to come back, instead of failing a chord: a RabbitMQ restart takes
    seconds. A web request keeps Celery's defaults and says within a second that it is away.
    Set before the pool forks, so that every process sends with it."""
    patient = {"max_retries": 30, "interval_start": 0, "interval_step": 1, "interval_max": 5}
    app.conf.task_publish_retry_policy = patient


@signals.task_prerun.connect
def close_old_database_connections(**kwargs):
    """Before a task, as Django before a request: drop a connection that broke or grew too old."""
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_process_init.connect
def leave_sigterm_to_the_main_process(**kwargs):
    """A pool process ignores SIGTERM: the main process's warm shutdown stops it.

    honcho, systemd and `kill -- -PGID` signal the whole process group, pool included. An idle
    process of the blocking pool (the filesystem broker's) waits for its next task holding the
    pool's shared read lock; killed there, it never let go of it, and the main process, at its
    exit, waited for that lock for ever (billiard's Pool._help_stuff_finish): 8 of 10 embedded
    workers hung. Ignored, billiard leaves it so (it replaces only a handler). A group SIGTERM
    now does what a SIGTERM to the main process does: running tasks finish, held messages go
    back, each process exits when the pool closes. A time limit still kills with SIGKILL.
    Only there: RabbitMQ's and Redis's pool (Celery's AsynPool) shares no such lock and keeps
    Celery's way, each process stopping at the signal.
    """
    if app.conf.broker_url.startswith("filesystem://"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


@signals.worker_shutting_down.connect
def stop_waiting_for_messages(**kwargs):
    """The filesystem broker's wait for a message ends at once: an idle worker stops now."""
    FilesystemTransport.stop_waiting()
