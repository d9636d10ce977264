"""A lesson's laboratory: its own workers and beats, on its own queues, and what they report.

Everything a Lab starts, it stops when the lesson ends, however it ends (a verdict, an error,
Ctrl-C): each process group by its pid, each queue deleted, each row it made removed.
"""

import json
import os
import secrets
import shutil
import signal
import time
from pathlib import Path

from celery import Celery
from django.conf import settings
from kombu import Connection
from kombu.utils.url import maybe_sanitize_url

from project import processes
from project.stack import broker_transport_options

from .models import Specimen

BASE_DIR = Path(__file__).resolve().parent.parent
# A lesson's processes stop at once: their tasks are probes, and a lesson must end in seconds.
STOP_TIMEOUT = 5


class Lab:
    def __init__(self, run, say=print):
        self.run = run
        self.say = say
        self.folder = Path(settings.VAR_DIR) / "lessons" / f"run-{run.pk}"
        self.events_path = self.folder / "events.jsonl"
        self.processes = []  # (name, Popen, log path), in the order started
        self.queues = []  # (conf, queue name)
        self.apps = []
        self.token = secrets.token_hex(3)

    def __enter__(self):
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.events_path.touch()
        self.t0 = time.time()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.stop(*[process for _, process, _ in self.processes])
        for conf, queue in self.queues:
            delete_queue(conf, queue)
        for app in self.apps:
            app.close()
        Specimen.objects.filter(run=self.run).delete()

    # Times: each lesson's are seconds, times LESSONS_TIME_SCALE.
    def seconds(self, value):
        return value * settings.LESSONS_TIME_SCALE

    def sleep(self, value):
        time.sleep(self.seconds(value))

    # Brokers and settings.
    def broker_url(self, broker):
        return {
            "default": settings.CELERY_BROKER_URL,
            "redis": settings.LESSONS_REDIS_URL,
            "rabbitmq": settings.LESSONS_RABBITMQ_URL,
        }[broker]

    def unreachable(self, broker):
        """Why ``broker`` cannot be used, with the setting to change; None when it can."""
        url = self.broker_url(broker)
        if url.startswith("filesystem://"):
            return None
        try:
            with Connection(url, connect_timeout=3) as connection:
                connection.ensure_connection(max_retries=1)
        except Exception as error:  # kombu raises each transport's own errors
            setting = f"LESSONS_{broker.upper()}_URL"
            return f"{broker} not reachable at {maybe_sanitize_url(url)} ({error}); set {setting}"
        return None

    def conf(self, variant, broker="default", **settings_):
        """Celery settings for one variant's processes: its broker, a queue of its own, and
        ``settings_`` (acks_late, a visibility timeout, a schedule …)."""
        queue = f"lesson-{self.run.pk}-{self.token}-{variant}"
        conf = {
            "task_default_queue": queue,
            "worker_enable_remote_control": False,  # no pidbox queue to leave behind
            **settings_,
        }
        if broker != "default":
            url = self.broker_url(broker)
            options = broker_transport_options(url, settings.VAR_DIR, settings.CELERY_BROKER_POLLING_INTERVAL)
            conf = {
                "broker_url": url,
                "broker_transport": None,  # the URL's own, not the embedded default's
                "worker_prefetch_multiplier": 1,
                **conf,
                "broker_transport_options": {**options, **settings_.get("broker_transport_options", {})},
            }
        self.queues.append((conf, queue))
        return conf

    def app(self, conf):
        """A Celery app that sends with ``conf``, beside the project's."""
        app = Celery(f"lesson-{self.run.pk}", set_as_current=False)
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.conf.update(conf)
        self.apps.append(app)
        return app

    # Processes.
    def _start(self, name, conf, *arguments):
        log_path = self.folder / f"{name}.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(BASE_DIR),
            "LESSON_CELERY_CONF": json.dumps(conf),
            "LESSON_EVENTS": str(self.events_path),
            "LESSON_NODE": name,
        }
        command = processes.celery_command("lessons.worker", *arguments)
        process = processes.start(command, log_path, env=env, cwd=self.folder)
        process.started_at = time.monotonic()
        self.processes.append((name, process, log_path))
        return process

    def worker(self, name, conf, concurrency=2, queues=None):
        """A prefork worker on ``conf``'s broker and queue (or ``queues``); started, not yet
        ready (ready())."""
        return self._start(
            name,
            conf,
            "worker",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--concurrency={concurrency}",
            f"--hostname={name}-{self.run.pk}-{os.getpid()}@%h",
            f"--queues={','.join(queues or [conf['task_default_queue']])}",
        )

    def beat(self, name, conf, task, args, every):
        """A beat that sends ``task`` with ``args`` every ``every`` seconds to ``conf``'s queue,
        and nothing else: its schedule in a file of its own, no periodic task in the database."""
        entry = {"task": task.name, "schedule": every, "args": args}
        return self._start(
            name,
            {**conf, "beat_schedule": {"lesson": entry}, "beat_max_loop_interval": every},
            "beat",
            "--loglevel=INFO",
            "--scheduler=celery.beat:PersistentScheduler",
            f"--schedule={self.folder / name}-schedule",
        )

    def ready(self, *started):
        for name, process, log_path in self.processes:
            if process in started:
                processes.wait_ready(process, log_path)
                took = time.monotonic() - process.started_at
                self.say(f"  {name} ready (pid {process.pid}, {took:.1f} s after it started)")

    def cut_off(self, *started, window):
        """Ask each process to stop, as a process manager does, and kill its group ``window``
        seconds later (Kubernetes' grace period)."""
        for process in started:
            process.send_signal(signal.SIGTERM)
        self.sleep(window)
        for process in started:
            processes.kill_group(process)

    def stop(self, *started):
        processes.stop(*started, timeout=STOP_TIMEOUT)

    def log(self, process):
        return next(path for _, started, path in self.processes if started is process).read_text()

    def now(self):
        return time.time()

    # Evidence.
    def events(self, variant=None, event=None):
        lines = self.events_path.read_text().splitlines()
        found = (json.loads(line) for line in lines if line)
        return [
            e
            for e in found
            if (variant is None or e["variant"] == variant) and (event is None or e["event"] == event)
        ]

    def wait_for(self, predicate, timeout):
        """Wait up to ``timeout`` (scaled) seconds for ``predicate(self)``; whether it came."""
        try:
            processes.wait_until(lambda: predicate(self), timeout=self.seconds(timeout), interval=0.05)
        except AssertionError:
            return False
        return True

    def timeline(self):
        """One lane per process, one bar per execution: a start and the end that follows it in
        that process, or no end (cut short, or still running when the lesson ended)."""
        lanes, bars, open_bars = [], [], {}
        events = sorted(self.events(), key=lambda e: e["t"])
        origin = events[0]["t"] if events else self.t0
        for e in events:
            lane_name = f"{e['variant']} · {e['node']} {e['pid']}"
            if lane_name not in lanes:
                lanes.append(lane_name)
            lane = lanes.index(lane_name)
            at = round((e["t"] - origin) * 1000)
            if e["event"] == "start":
                open_bars[lane] = {
                    "lane": lane,
                    "label": e["label"],
                    "start": at,
                    "end": None,
                    "outcome": "cut",
                }
                bars.append(open_bars[lane])
            elif e["event"] in ("end", "failed") and lane in open_bars:
                bar = open_bars.pop(lane)
                bar["end"] = at
                bar["outcome"] = "failed" if e["event"] == "failed" else "ran"
            elif e["event"] == "errback":
                bars.append(
                    {
                        "lane": lane,
                        "label": f"errback ({e['label']})",
                        "start": at,
                        "end": at,
                        "outcome": "errback",
                    }
                )
        end = round((time.time() - origin) * 1000)
        for bar in open_bars.values():
            bar["end"] = end
        return {"lanes": lanes, "bars": bars}

    def logs(self):
        return "\n".join(
            f"==> {name} (pid {process.pid}) <==\n{log_path.read_text(errors='replace')}"
            for name, process, log_path in self.processes
        )


def delete_queue(conf, queue):
    """Delete a lesson's queue, its exchange (Celery names it as the queue) and what it holds
    from its broker: on Redis every key of the queue and its unacknowledged messages; on the
    embedded broker its messages."""
    url = conf.get("broker_url", settings.CELERY_BROKER_URL)
    if url.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        # Waiting, and claimed by a process that was killed (another worker would put it back).
        waiting = Path(options["data_folder_in"]).glob(f"*.{queue}.msg")
        claimed = Path(options["claimed_folder"]).glob(f"*/*.{queue}.msg")
        for message in [*waiting, *claimed]:
            message.unlink(missing_ok=True)
        return
    with Connection(url, transport_options=conf.get("broker_transport_options")) as connection:
        channel = connection.default_channel
        if url.startswith(("redis://", "rediss://")):
            client = channel.client
            for tag, raw in client.hscan_iter(channel.unacked_key):
                if json.loads(raw)[2] == queue:  # [message, exchange, routing key]
                    client.hdel(channel.unacked_key, tag)
                    client.zrem(channel.unacked_index_key, tag)
            # The queue's list (one per priority) and its bindings; names are unique to a run.
            keys = list(client.scan_iter(match=f"*{queue}*"))
            if keys:
                client.delete(*keys)
        else:
            channel.queue_delete(queue)
            channel.exchange_delete(queue)
