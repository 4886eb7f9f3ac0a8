"""Invitations asked for through the REST API (send=false, an Idempotency-Key on every request) against the
one-INSERT view, on the same gunicorn server in the same run (target: at least 0.5x).

    .venv/bin/python bench/api.py [--duration 5] [--rounds 3] [--clients 16]

Uses bench/run.py's database, settings and server (BENCH_PG, BENCH_DB_SUFFIX, BENCH_PORT, BENCH_REDIS).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.faults import cpu_line, cpu_snapshot  # noqa: E402
from bench.run import HOST, PORT, environment, recreate_database, start_server  # noqa: E402


def prepare(env: dict[str, str], customers: int, history: int) -> dict:
    for args in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from api.keys import apikey_create
    from customers.models import Customer
    from surveys import building
    from surveys.models import Invitation

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_ping (id bigserial PRIMARY KEY, payload text, "
            "created timestamptz NOT NULL DEFAULT now())"
        )
    owner = User.objects.create_superuser("bench", password=secrets.token_urlsafe(12))
    survey = building.survey_create(owner=owner, kind="nps", title_en="Bench", title_vi="Bench")
    building.survey_activate(survey=survey)
    made = Customer.objects.bulk_create(
        [Customer(name=f"Khách {i}", email=f"c{i}@example.org", external_id=f"B-{i}") for i in range(customers)],
        batch_size=5000,
    )
    # A server in use holds earlier invitations (of other customers, asked months ago): the planner's statistics,
    # and the plans PostgreSQL keeps for foreign-key checks, are those of a table with rows, not of an empty one.
    past = Customer.objects.bulk_create(
        [Customer(name=f"Cũ {i}", email=f"old{i}@example.org", external_id=f"H-{i}") for i in range(history)],
        batch_size=5000,
    )
    now = timezone.now()
    Invitation.objects.bulk_create(
        [
            Invitation(
                survey=survey,
                customer=c,
                token_hash=secrets.token_hex(32),
                status=Invitation.Status.SENT,
                created_at=now - timedelta(days=60 + i % 300),
                sent_at=now - timedelta(days=60 + i % 300),
                expires_at=now - timedelta(days=30 + i % 300),
            )
            for i, c in enumerate(past)
        ],
        batch_size=5000,
    )
    _key, secret = apikey_create(name="bench", scope="write", actor=owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return {"survey": survey.pk, "customers": [c.pk for c in made], "secret": secret}


def api_post(path: str, host: str, body: dict, headers: dict[str, str]) -> bytes:
    data = json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--customers", type=int, default=60_000)
    parser.add_argument("--history", type=int, default=20_000, help="earlier invitations already stored")
    args = parser.parse_args()

    env = environment(tempfile.mkdtemp(prefix="langnghe-bench-api-"))
    env["API_RATE_PER_MINUTE"] = "100000000"  # the limiter is counted (one Redis call), never reached
    recreate_database()
    data = prepare(env, args.customers, args.history)
    server = start_server(env, args.workers)
    host = f"{HOST}:{PORT}"
    customers = iter(data["customers"])
    auth = {"Authorization": f"Bearer {data['secret']}"}
    counter = itertools.count()

    def invitation(_i: int) -> bytes | None:
        customer = next(customers, None)
        if customer is None:
            return None
        body = {"survey": data["survey"], "customer_id": customer, "send": False}
        return api_post("/api/v1/invitations/", host, body, {**auth, "Idempotency-Key": f"order-{next(counter)}"})

    def created(status: int, raw: bytes) -> bool:
        return status == 201 and b'"state":"queued"' in raw

    cpu: dict[str, list[str]] = {}

    def scenario(name, make, accept=None, duration=args.duration):
        before = cpu_snapshot({"gunicorn": server.pid})
        result = asyncio.run(load.run(name, HOST, PORT, make, clients=args.clients, duration=duration, accept=accept))
        cpu.setdefault(name, []).append(cpu_line(before, cpu_snapshot({"gunicorn": server.pid}), len(result.latencies)))
        return result

    try:
        scenario("warm-up", lambda i: load.post("/bench/insert/", host, "q=1"), duration=1.5)
        scenario("warm-up", invitation, accept=created, duration=1.5)
        rounds = []
        for _ in range(args.rounds):
            insert = scenario("one-INSERT view POST", lambda i: load.post("/bench/insert/", host, "q=5"))
            api = scenario("API invitation POST", invitation, accept=created)
            rounds.append((insert, api))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    from api.models import ApiCall, IdempotencyRecord
    from surveys.models import Invitation

    made = Invitation.objects.filter(survey_id=data["survey"]).count()
    accepted = sum(a.accepted for _i, a in rounds)
    for number, (insert, api) in enumerate(rounds, start=1):
        print(f"round {number}: api/insert {api.rate / insert.rate:.2f}x")
        print("  " + insert.line())
        print("  " + api.line())
    ratio = statistics.median(a.rate / i.rate for i, a in rounds)
    print()
    print("CPU per request (seconds in the last round, milliseconds per request):")
    for name in ("one-INSERT view POST", "API invitation POST"):
        print(f"  {name}: {cpu[name][-1]}")
    print()
    print(f"API invitation / one-INSERT = {ratio:.2f}x (target >= 0.50x) {'PASS' if ratio >= 0.5 else 'FAIL'}")
    print(
        f"invitations stored = {made}, idempotency records = {IdempotencyRecord.objects.count()}, "
        f"calls logged = {ApiCall.objects.count()} (accepted in the measured rounds: {accepted})"
    )
    import redis

    from bench.run import BENCH_REDIS

    redis.Redis.from_url(BENCH_REDIS).flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
