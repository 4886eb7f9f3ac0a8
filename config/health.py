"""Health that tells the truth: liveness (`/healthz/`) and readiness (`/readyz/`), JSON, fast, never a 500 page.

Each readiness probe runs in its own thread with a deadline, so a hung Redis or a locked database makes the answer
"not ready" within about PROBE_SECONDS instead of making the health check hang with the rest of the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

PROBE_SECONDS = 2.0
# Beyond these the stack is not doing its work: the dispatcher runs every few seconds, a worker beats every 10 s.
OUTBOX_LAG_LIMIT = 120.0
HEARTBEAT_LIMIT = 60.0


def _database() -> dict[str, Any]:
    from outbox.dispatch import oldest_due_age
    from outbox.models import Heartbeat

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL statement_timeout = 1500")
                cursor.execute("SELECT 1")
            lag = oldest_due_age()
            beat = Heartbeat.objects.filter(name="dispatcher").values_list("at", flat=True).first()
        now = timezone.now()
        beat_age = None if beat is None else (now - beat) / timedelta(seconds=1)
        return {"database": {"ok": True}, "outbox_oldest_due_seconds": lag, "dispatcher_seconds_ago": beat_age}
    finally:
        connections.close_all()  # this thread's own connection


def _broker() -> dict[str, Any]:
    import redis

    from config.celery import WORKER_HEARTBEAT_KEY

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_SECONDS, socket_connect_timeout=PROBE_SECONDS
    )
    try:
        client.ping()
        raw = client.get(WORKER_HEARTBEAT_KEY)
    finally:
        client.close()
    return {"broker": {"ok": True}, "worker_seconds_ago": None if raw is None else time.time() - float(raw)}


def _probe(pool: ThreadPoolExecutor, name: str, fn: Callable[[], dict[str, Any]]) -> Any:
    return name, pool.submit(fn)


def readiness() -> tuple[bool, dict[str, Any]]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")
    futures = [_probe(pool, "database", _database)]
    if settings.REDIS_URL:
        futures.append(_probe(pool, "broker", _broker))
    report: dict[str, Any] = {}
    deadline = time.monotonic() + PROBE_SECONDS + 0.5
    for name, future in futures:
        try:
            report |= future.result(timeout=max(deadline - time.monotonic(), 0.05))
        except FutureTimeout:
            report[name] = {"ok": False, "error": "timeout"}
        except Exception as error:  # noqa: BLE001 - any failure is the answer "not ready", with its reason
            report[name] = {"ok": False, "error": f"{type(error).__name__}: {str(error)[:200]}"}
    pool.shutdown(wait=False)  # a hung probe's thread ends with its socket timeout
    checks: dict[str, bool] = {"database": report["database"].get("ok", False)}
    lag = report.get("outbox_oldest_due_seconds")
    checks["outbox"] = checks["database"] and (lag is None or lag < OUTBOX_LAG_LIMIT)
    if settings.REDIS_URL:
        checks["broker"] = report["broker"].get("ok", False)
        worker = report.get("worker_seconds_ago")
        checks["worker"] = worker is not None and worker < HEARTBEAT_LIMIT
        beat = report.get("dispatcher_seconds_ago")
        checks["beat"] = beat is not None and beat < HEARTBEAT_LIMIT
    else:
        report["broker"] = {"ok": True, "note": "no broker: tasks run in-process"}
    report["checks"] = checks
    ready = all(checks.values())
    report["status"] = "ready" if ready else "not ready"
    return ready, report
