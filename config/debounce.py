"""Asking a worker for a catch-up task, from a background thread, at most once every few seconds per process.

Nothing here ever blocks a request on the broker. A request (a respondent's answer, a complaint) only sets a flag;
a daemon thread of the process publishes the requested tasks a moment later. With Redis down or hung (SIGSTOP),
that thread waits or fails, bounded by the broker timeouts in settings, and the request has long been answered.

Every task asked for this way works from the database (a watermark, the outbox table, the invitations' states) and
beat runs it periodically anyway, so a request dropped while the broker is away only delays the work. Handing a
message to the broker costs about as much as storing a response (measured: 0.35 ms), which is why a hot path asks
at most once per window. No countdown is used: messages held unacknowledged by a worker (ETA tasks) are what made
kombu 5.7 workers die when Redis dropped.

At most one message per task waits in the queue, whatever the number of processes asking: before publishing, the
publisher sets a "pending" key in Redis (SET NX with an expiry), and a worker deletes it as the task starts
(`task_started`, connected in config/celery.py). Requests that arrive while a message waits are answered by that
message, since the task reads the database when it starts; those that arrive while it runs make one new message.
Without this, every process of every web server published its own request each window, and under load the queue
filled with copies of the same sweeps (30 waiting at once in the webhook benchmark), so that each sweep's work was
done minutes late. A key whose message was lost expires after PENDING_SECONDS, and beat runs every task anyway.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

PENDING_PREFIX = "langnghe:pending:"
PENDING_SECONDS = 60


def redis_client() -> Any:
    """A Redis client with the settings' timeouts on connect and on every command; None without REDIS_URL."""
    import redis
    from django.conf import settings

    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=settings.REDIS_TIMEOUT, socket_connect_timeout=settings.REDIS_TIMEOUT
    )


def task_started(name: str) -> None:
    """A worker is about to run `name`: the next request for it needs a new message."""
    client = _worker_client()
    if client is None:
        return
    try:
        client.delete(PENDING_PREFIX + name)
    except Exception as error:  # noqa: BLE001 - the broker is away: the key expires by itself
        logger.debug("could not clear the pending mark of %s: %s", name, error)


_worker: tuple[int, Any] | None = None  # (pid, client): a forked child makes its own


def _worker_client() -> Any:
    global _worker
    if _worker is None or _worker[0] != os.getpid():
        _worker = (os.getpid(), redis_client())
    return _worker[1]


class Debounced:
    def __init__(self, task: Any, seconds: float) -> None:
        self.task = task
        self.seconds = seconds

    def request(self) -> None:
        from config.celery import app

        if app.conf.task_always_eager:
            self.task.delay()  # no broker (the embedded mode, tests): run it now, in-process
            return
        _publisher().ask(self.task, self.seconds)


class _Publisher:
    """One daemon thread per process that publishes what requests asked for."""

    def __init__(self, start: bool = True, pending: Any = None) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.wanted: dict[str, tuple[Any, float]] = {}
        self.last: dict[str, float] = {}
        self.pid = os.getpid()
        self.redis = pending  # a Redis client for the "pending" marks; None: publish every request
        if start:
            threading.Thread(target=self._run, name="langnghe-publisher", daemon=True).start()

    def ask(self, task: Any, seconds: float) -> None:
        with self.lock:
            self.wanted.setdefault(task.name, (task, seconds))
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            # Gather the requests of the next moment into one message (the trailing edge of the window).
            with self.lock:
                pause = min((seconds for _task, seconds in self.wanted.values()), default=1.0)
            time.sleep(pause)
            if self.flush(time.monotonic()):
                self.wake.set()  # some were too soon after their last message: try again after a pause

    def flush(self, now: float) -> int:
        """Publish each wanted task whose window has passed; returns how many must wait for a later flush."""
        with self.lock:
            wanted, self.wanted = self.wanted, {}
        for name, (task, seconds) in wanted.items():
            if now - self.last.get(name, -1e9) < seconds:
                with self.lock:  # too soon after the last one: keep it for the next round
                    self.wanted.setdefault(name, (task, seconds))
                continue
            self.last[name] = now
            try:
                if self._mark_pending(name):
                    self._publish(name, task)
            except Exception as error:  # noqa: BLE001 - the broker is away; beat catches up later
                logger.warning("could not ask for %s: %s", name, error)
        return len(self.wanted)

    def _publish(self, name: str, task: Any) -> None:
        try:
            task.apply_async(retry=False)
        except Exception:
            if self.redis is not None:  # no message waits after all: the next request may publish
                self.redis.delete(PENDING_PREFIX + name)
            raise

    def _mark_pending(self, name: str) -> bool:
        """True when no message for `name` waits (and one may be published now)."""
        if self.redis is None:
            return True
        return bool(self.redis.set(PENDING_PREFIX + name, "1", nx=True, ex=PENDING_SECONDS))


_instance: _Publisher | None = None
_instance_lock = threading.Lock()


def _publisher() -> _Publisher:
    global _instance
    # After a fork (gunicorn, Celery's prefork) the parent's thread does not exist in the child: start a new one.
    if _instance is None or _instance.pid != os.getpid():
        with _instance_lock:
            if _instance is None or _instance.pid != os.getpid():
                _instance = _Publisher(pending=redis_client())
    return _instance
