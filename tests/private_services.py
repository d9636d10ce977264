"""Private RabbitMQ and PostgreSQL instances to break on purpose in the fault tests.

Each instance lives in a folder of its own, listens on 127.0.0.1 on free ports, and is started
and stopped by this process only: the machine's shared services (PostgreSQL on 5432, RabbitMQ
node rabbit@localhost on 5672, its epmd on 4369, its cookie) are never touched.

    with PrivateRabbitMQ(tmp) as rabbit, PrivatePostgres(tmp) as pg:
        rabbit.url, pg.url, pg.database_url("mydb")
        rabbit.restart()          # graceful stop + start: durable queues, persistent messages kept
        rabbit.restart("app")     # rabbitmqctl stop_app/start_app: the Erlang VM stays up
        rabbit.restart("kill")    # SIGKILL the VM, start again (a crash)
        pg.restart()              # fast shutdown: backends terminated, checkpoint, start
        pg.restart("immediate")   # crash-like: no checkpoint, WAL replayed at start
        with rabbit.outage(): ... # down for the block, started again after it (same for pg)

start() returns once the service accepts connections (an AMQP handshake answered; the
postmaster reporting "ready"); stop() returns once none of the instance's processes is left.

No stray processes, however the test run ends:
- every server process is a child of this process, not a daemon (``postgres`` is run
  directly, not through ``pg_ctl start``, which detaches it), and the kernel sends it a
  signal when this process dies, even by SIGKILL (PR_SET_PDEATHSIG);
- close() (stop, clean up) is registered with atexit; both classes are context managers.

Requires (Debian 12) rabbitmq-server 3.10 on Erlang 25 and postgresql-15, and root: PostgreSQL
runs as the ``postgres`` user (it refuses root), RabbitMQ as root with HOME in its folder.
"""

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import string
import subprocess
import tempfile
import time
from pathlib import Path

from project.processes import dies_with_parent, wait_until

RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")
POSTGRES_USER = "postgres"


def free_port():
    """A TCP port nothing listens on now (the kernel's pick; racy in theory, fine in tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid):
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _end(process, sig, timeout):
    """Send ``sig`` to a Popen, wait ``timeout`` s, then SIGKILL its process group."""
    if process.poll() is None:
        process.send_signal(sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # each was started in a session of its own
    process.wait()


class _Service:
    """Context manager, timings, outage(), and an atexit safety net."""

    def __init__(self):
        self.timings = {}  # "start", "stop", "restart_<how>" -> seconds, of the last one
        atexit.register(self.close)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Stop for good (and remove what only this instance used). Idempotent."""
        self.stop()

    def _timed(self, name, function, *args):
        began = time.monotonic()
        result = function(*args)
        self.timings[name] = round(time.monotonic() - began, 3)
        return result

    @contextlib.contextmanager
    def outage(self):
        """Down for the block (stopped cleanly, data kept), up again after it."""
        self._down()
        try:
            yield self
        finally:
            self._up()


class PrivateRabbitMQ(_Service):
    """A single RabbitMQ node of its own: own name, ports, data, cookie and epmd.

    - Node ``faults-<pid>-<n>@localhost``: ``localhost`` resolves on every machine, the short
      host name may not. AMQP on ``port``; Erlang distribution on ``dist_port`` (the default,
      port + 20000, may be taken); epmd on ``epmd_port``.
    - Its own epmd, our child: otherwise the node registers with the system's epmd on 4369
      (harmless, but shared) or, if none runs, starts an ``epmd -daemon`` that outlives it.
    - HOME is its folder: the node writes its .erlang.cookie there and rabbitmqctl reads that
      one; the system node's cookie (/var/lib/rabbitmq) is neither read nor written.
    - RABBITMQ_CONF_ENV_FILE is an empty file of its own: the default,
      /etc/rabbitmq/rabbitmq-env.conf, sets NODENAME=rabbit@localhost (the shared node's name).
    - No plugins (an empty enabled_plugins file): no management listener on 15672.
    """

    _count = 0

    def __init__(self, tmpdir, epmd_port=None):
        super().__init__()
        PrivateRabbitMQ._count += 1
        self.dir = Path(tmpdir) / f"rabbitmq-{PrivateRabbitMQ._count}"
        self.node = f"faults-{os.getpid()}-{PrivateRabbitMQ._count}@localhost"
        self.port, self.dist_port = free_port(), free_port()
        # epmd_port=4369 shares the system's epmd (ours registers a name there, nothing more).
        self._own_epmd = epmd_port is None
        self.epmd_port = epmd_port or free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.log = self.dir / "server.log"  # stdout; the node's own log is in log/
        self._server = self._epmd = None
        self._prepare()

    def _prepare(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        cookie = self.dir / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text("".join(secrets.choice(string.ascii_uppercase) for _ in range(20)))
            cookie.chmod(0o400)  # Erlang refuses a cookie others can read
        (self.dir / "rabbitmq-env.conf").write_text("")
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            # A test machine's disk may be nearly full: do not block publishers for it.
            "disk_free_limit.absolute = 1MB\n"
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(self.dir),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_BASE": str(self.dir),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbitmq.pid"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self):
        self._timed("start", self._up)

    def stop(self):
        if self._server is not None or self._epmd is not None:
            self._timed("stop", self._stop)

    def restart(self, how="graceful"):
        """``graceful``: stop the node (like ``rabbitmqctl stop``), start it again.
        ``app``: ``rabbitmqctl stop_app`` + ``start_app``; the Erlang VM stays up.
        ``kill``: SIGKILL the Erlang VM (a crash), start it again."""
        self._timed(f"restart_{how}", self._restart, how)

    def _restart(self, how):
        if how == "app":
            self.ctl("stop_app")
            self.ctl("start_app")
            self.wait_ready()
            return
        if how == "kill":
            os.kill(self.vm_pid(), signal.SIGKILL)
        elif how != "graceful":
            raise ValueError(how)
        self._down()
        self._up()

    def _up(self):
        if self._own_epmd and self._epmd is None:
            self._epmd = subprocess.Popen(
                ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                env=self.env,
                start_new_session=True,
                preexec_fn=dies_with_parent(signal.SIGKILL),
            )
        with open(self.log, "a") as log:
            # The script runs the VM as its child; on TERM it stops the VM gracefully.
            self._server = subprocess.Popen(
                [str(RABBITMQ_SCRIPTS / "rabbitmq-server")],
                cwd=self.dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=dies_with_parent(signal.SIGTERM),
            )
        self.wait_ready()

    def wait_ready(self, timeout=60):
        def ready():
            if self._server.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited {self._server.returncode}; see {self.log}")
            return self.accepts_amqp()

        wait_until(ready, timeout, 0.1, f"RabbitMQ {self.node} did not accept AMQP; see {self.log}")

    def accepts_amqp(self):
        """Whether the node answers an AMQP 0-9-1 protocol header with a method frame
        (Connection.Start). The listener opens last in RabbitMQ's boot, after the durable
        queues are recovered. The node logs each probe as "client unexpectedly closed"."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"AMQP\x00\x00\x09\x01")
                return sock.recv(1) == b"\x01"
        except OSError:
            return False

    def vm_pid(self):
        return int((self.dir / "rabbitmq.pid").read_text())

    def _down(self):
        """Stop the node, keep epmd (a restart is faster with it, and it holds no state)."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            vm = self.vm_pid()
        except (FileNotFoundError, ValueError):
            vm = None
        _end(server, signal.SIGTERM, timeout=30)
        if vm is not None and _alive(vm):  # the script died first, say
            os.kill(vm, signal.SIGKILL)
            wait_until(lambda: not _alive(vm), 10, message=f"beam.smp {vm} survived SIGKILL")
        (self.dir / "rabbitmq.pid").unlink(missing_ok=True)

    def _stop(self):
        self._down()
        if self._epmd is not None:
            _end(self._epmd, signal.SIGTERM, timeout=5)
            self._epmd = None

    def ctl(self, *args, timeout=60):
        """``rabbitmqctl -n NODE ARGS``: about 1 s, each call starts an Erlang VM."""
        return subprocess.run(
            [str(RABBITMQ_SCRIPTS / "rabbitmqctl"), "-n", self.node, *args],
            env=self.env,
            cwd=self.dir,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        ).stdout

    def queues(self):
        """{queue: (durable, messages ready, messages unacknowledged, consumers)}."""
        out = self.ctl(
            "list_queues",
            "-q",
            "--no-table-headers",
            "name",
            "durable",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
        )
        return {
            name: (durable == "true", int(ready), int(unacked), int(consumers))
            for name, durable, ready, unacked, consumers in (line.split("\t") for line in out.splitlines())
        }


class PrivatePostgres(_Service):
    """A PostgreSQL cluster of its own, as the ``postgres`` user: trust auth, TCP on
    127.0.0.1:``port``, its unix socket in its own folder.

    The postmaster runs as our child (``postgres -D``), stopped with the signals pg_ctl
    sends: SIGINT (fast), SIGQUIT (immediate). Tuned for throwaway data: fsync,
    synchronous_commit and full_page_writes off, which loses data only if the *machine*
    crashes; a postmaster stopped with SIGQUIT or SIGKILL still recovers every commit (the WAL
    is in the kernel's page cache).

    The data folder must be reachable by the postgres user. If ``tmpdir`` is not (pytest's
    /tmp/pytest-of-root is mode 0700), the cluster goes to a folder of its own under /tmp,
    removed by close().
    """

    def __init__(self, tmpdir, version=None):
        super().__init__()
        versions = sorted(Path("/usr/lib/postgresql").glob(f"{version or '*'}/bin/postgres"))
        if not versions:
            raise FileNotFoundError("no /usr/lib/postgresql/<version>/bin/postgres")
        self.bin = versions[-1].parent
        base, self._own_base = Path(tmpdir), None
        if not _reachable_by(POSTGRES_USER, base):
            base = self._own_base = Path(tempfile.mkdtemp(prefix="faults-pg-"))
            base.chmod(0o755)
        self.dir = base / f"postgres-{os.getpid()}"
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.url = self.database_url("postgres")
        self._server = None

    def database_url(self, name):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self):
        self._timed("start", self._up)

    def stop(self):
        if self._server is not None:
            self._timed("stop", self._down)

    def close(self):
        self.stop()
        if self._own_base is not None:
            shutil.rmtree(self._own_base, ignore_errors=True)
            self._own_base = None

    def restart(self, mode="fast"):
        """``fast`` (pg_ctl -m fast): roll back, terminate the backends, checkpoint, start.
        ``immediate``: the postmaster quits at once, a crash; the start replays the WAL."""
        self._timed(f"restart_{mode}", self._restart, mode)

    def _restart(self, mode):
        self._down({"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode])
        self._up()

    def initdb(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.dir, POSTGRES_USER, POSTGRES_USER)
        subprocess.run(
            [
                self.bin / "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            user=POSTGRES_USER,
            group=POSTGRES_USER,
            extra_groups=[],
            cwd="/",
            check=True,
            capture_output=True,
            timeout=120,
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# faults.PrivatePostgres\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 32MB\nmax_connections = 100\n"
                "log_line_prefix = '%m [%p] '\n"
            )

    def _up(self):
        if not (self.data / "PG_VERSION").exists():
            self._timed("initdb", self.initdb)
        with open(self.log, "a") as log:
            shutil.chown(self.log, POSTGRES_USER, POSTGRES_USER)
            self._server = subprocess.Popen(
                [self.bin / "postgres", "-D", self.data],
                user=POSTGRES_USER,
                group=POSTGRES_USER,
                extra_groups=[],
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=dies_with_parent(signal.SIGQUIT),
            )

        def ready():  # what pg_ctl -w waits for: the status line of postmaster.pid
            if self._server.poll() is not None:
                raise RuntimeError(f"postgres exited {self._server.returncode}; see {self.log}")
            with contextlib.suppress(FileNotFoundError):
                lines = (self.data / "postmaster.pid").read_text().splitlines()
                return len(lines) > 7 and lines[0] == str(self._server.pid) and lines[7].strip() == "ready"

        wait_until(ready, 60, message=f"PostgreSQL did not start; see {self.log}")

    def _down(self, sig=signal.SIGINT):
        server, self._server = self._server, None
        if server is None:
            return
        server.send_signal(sig)
        try:
            server.wait(timeout=30)  # the postmaster exits after all its children
        except subprocess.TimeoutExpired:
            # Backends are session leaders of their own (not in the postmaster's group):
            # find them by parent before the postmaster goes.
            for pid in [*_children(server.pid), server.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            server.wait()

    def psql(self, sql, database="postgres"):
        return subprocess.run(
            [
                self.bin / "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-Atc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout


def _reachable_by(user, path):
    """Whether ``user`` may traverse every folder down to ``path``."""
    account = pwd.getpwnam(user)
    groups = set(os.getgrouplist(user, account.pw_gid))
    for folder in [path.resolve(), *path.resolve().parents]:
        if not folder.exists():
            continue
        info = folder.stat()
        if info.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _children(pid):
    """The pids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found
