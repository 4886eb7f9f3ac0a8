"""Services a fault test owns: its own Redis server, SMTP server and Celery worker, on free ports.

Killing them touches nothing else on the machine (other people's tests share the main Redis and PostgreSQL), so a
fault test starts everything it breaks itself.
"""

from __future__ import annotations

import asyncio
import email
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from email import policy
from pathlib import Path

import redis
from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

FAST = {  # the beat schedule and retries of a production stack, in seconds instead of minutes
    "OUTBOX_DISPATCH_SECONDS": "1",
    "OUTBOX_RETRY_BASE_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_MAX_ATTEMPTS": "3",
    "SWEEP_SECONDS": "2",
    "ROLLUP_SECONDS": "2",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float = 30.0, step: float = 0.2) -> bool:
    """Real time, on purpose: these tests watch other processes work (unit tests use time-machine instead)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


class RedisServer:
    """redis-server on a free port, without persistence: a restart comes back empty, as after a lost machine."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed program and arguments
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        assert wait_for(lambda: _pings(client), timeout=10), "redis-server did not start"

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        self.kill()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class Inbox:
    """An aiosmtpd handler that counts messages by recipient and can refuse them: `reply` is None (accept) or an
    SMTP reply such as "451 4.3.0 Try again later" given to every RCPT."""

    def __init__(self) -> None:
        self.received: list[tuple[str, email.message.EmailMessage]] = []
        self.reply: str | None = None
        self.refusals: dict[str, str] = {}  # a recipient → the reply it always gets
        self.greylist: set[str] = set()  # recipients refused once with a 451, then accepted
        self.greylisted: list[str] = []
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.greylist:
            self.greylist.discard(address)
            self.greylisted.append(address)
            return "451 4.7.1 Greylisted, try again later"
        refusal = self.refusals.get(address) or self.reply
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, message))
        return "250 OK"

    def counts(self) -> Counter[str]:
        return Counter(recipient for recipient, _message in self.received)


class SmtpServer:
    """aiosmtpd on a free port that can be stopped (connections refused) and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


class Worker:
    """`celery worker` (with its own beat when asked) as a subprocess, reading this test's database and services."""

    def __init__(self, logdir: Path, *, broker: str, smtp_port: int | None = None, beat: bool = False, **env: str):
        self.logdir = logdir
        self.beat = beat
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker,
            "PROCESS_ROLE": "worker",
            "EMAIL_FILE_PATH": str(logdir / "mail"),
            "DJANGO_ENV": "development",
            **env,
        }
        if smtp_port is not None:
            self.env |= {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "EMAIL_USE_TLS": "0"}
        else:
            self.env.pop("EMAIL_HOST", None)
        self.process: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        self.log = open(self.logdir / f"worker-{id(self)}-{self.runs}.log", "w")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"]
        command += ["--loglevel=INFO", "--without-gossip", "--without-mingle"]
        if self.beat:
            command += ["--beat", "--schedule", str(self.logdir / f"beat-{id(self)}-{self.runs}")]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)  # noqa: S603

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9 of the whole worker: its main process and the child doing the work."""
        assert self.process is not None
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)  # noqa: S607 - its children only
        self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()

    def output(self) -> str:
        return "\n".join(path.read_text()[-4000:] for path in sorted(self.logdir.glob("worker-*.log")))


def use_broker(url: str) -> Callable[[], None]:
    """Point this process's Celery app at `url` (the test's own Redis); returns the undo."""
    from config.celery import app

    before = app.conf.broker_url

    def point(target: str) -> None:
        app.conf.broker_url = target
        app.conf["CELERY_BROKER_URL"] = target  # Celery 5.6 reads the Django-namespaced key first
        app._pool = None  # connections are pooled per URL: drop the old pool
        app.amqp._producer_pool = None

    point(url)
    return lambda: point(before)


def http_request(port: int, method: str, path: str, body: str = "", timeout: float = 20) -> tuple[int, str]:
    """(status, Location or the start of the body); status 0 with the error when the server could not be reached."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body or None, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.getheader("Location") or reply.read().decode(errors="replace")[:4000]
    except OSError as error:
        return 0, str(error)


class WebServer:
    """gunicorn with the project's gunicorn.conf.py (sync workers, the web role) on a free port."""

    def __init__(self, logdir: Path, *, broker: str, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.logdir = logdir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker,
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_WORKERS": str(workers),
            "DJANGO_ENV": "development",  # static files without a collected manifest
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **env,
        }
        self.env.pop("DEBUG", None)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(self.logdir / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi:application"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)  # noqa: S603
        ready = wait_for(lambda: http_request(self.port, "GET", "/healthz/")[0] == 200, timeout=30)
        assert ready, self.output()

    def worker_pids(self) -> set[int]:
        """gunicorn's worker processes: a worker killed on its timeout comes back with another pid."""
        assert self.process is not None
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False)  # noqa: S607
        return {int(pid) for pid in found.stdout.split()}

    def output(self) -> str:
        return (self.logdir / "gunicorn.log").read_text()[-6000:]

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()
