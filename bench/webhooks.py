"""Webhook benchmark: deliveries per second on two Celery workers, and the lag from a response to its delivery.

    .venv/bin/python bench/webhooks.py [--deliveries 10000] [--workers 2] [--duration 8] [--clients 32]

Needs PostgreSQL (BENCH_PG) and Redis (BENCH_REDIS; the database is emptied). Reuses bench/run.py: its database,
demo data, tokens and gunicorn server. The receiver is a keep-alive HTTP server in its own process on 127.0.0.1
(WEBHOOK_ALLOW_PRIVATE_TARGETS is set for this run only). Baseline in the same run: one process posting the same
signed bodies to the same receiver over one kept-alive connection, with no database (webhooks/transport.py).

1. Throughput: N events (one delivery each) are stored, then two workers send them; rate = N / time to the last.
2. Lag: an endpoint wants response.submitted; the respondent benchmark's submit load runs against gunicorn while
   the same two workers (the webhook queue's, as in docker-compose.yml) sweep and send, and a third worker takes
   the other queue (closed loop, rollups, comment themes); lag = receive time - the response's submitted_at. The
   submit / one-INSERT ratio is measured with the endpoint subscribed and the three workers busy: on two cores it
   shows the CPU the workers take, not the submit path (bench/run.py measures that, with no worker).
   BENCH_WORKER_LOG=INFO prints each task's run time (bench/settings.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, run  # noqa: E402

RECEIVER_PORT = int(os.environ.get("BENCH_RECEIVER_PORT", str(run.PORT + 1)))


def receiver_main(port: int, count, lags) -> None:  # type: ignore[no-untyped-def]
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.time()
            with count.get_lock():
                count.value += 1
            if b'"response.submitted"' in body:
                submitted = json.loads(body)["data"]["submitted_at"]
                lags.put(now - datetime.fromisoformat(submitted).timestamp())
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def start_workers(
    env: dict[str, str], count: int, queue: str = "webhooks", name: str = "hooks"
) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency=1",
                "--pool=prefork",
                "-Q",
                queue,
                "--loglevel=" + os.environ.get("BENCH_WORKER_LOG", "WARNING"),
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}{i}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        for i in range(count)
    ]


def baseline_rate(url: str, n: int) -> float:
    from webhooks import signing
    from webhooks.targets import target_check
    from webhooks.transport import Sender

    target = target_check(url)
    sender = Sender(3, 5)
    secret = signing.secret_new()
    body = json.dumps({"type": "case.opened", "timestamp": "2026-01-01T00:00:00+00:00", "data": {"n": 1}}).encode()
    started = time.perf_counter()
    for i in range(n):
        sender.post(target, body, signing.headers(secret, f"msg_{i}", int(time.time()), body))
    sender.close()
    return n / (time.perf_counter() - started)


def wait_for(count, total: int, timeout: float, poke=None) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    last_poke = 0.0
    while count.value < total and time.perf_counter() - started < timeout:
        if poke and time.perf_counter() - last_poke > 1.0:
            poke()
            last_poke = time.perf_counter()
        time.sleep(0.05)
    return time.perf_counter() - started


def reuse(env: dict[str, str], count: int) -> dict:
    """The last run's database, webhooks emptied, with fresh links to answer (their tokens are not stored)."""
    import secrets

    os.environ.update(env)
    for command in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.utils import timezone

    from customers.models import Customer
    from surveys.invitations import invitation_create
    from surveys.models import Invitation, Survey, hash_token
    from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

    for model in (WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookEndpoint):
        model.objects.all().delete()
    survey = Survey.objects.filter(title_en="Bench").latest("pk")
    customers = list(Customer.objects.all()[:2000])
    _invitation, page_token = invitation_create(survey=survey, customer=customers[0])
    now = timezone.now()
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    Invitation.objects.bulk_create(
        [
            Invitation(survey=survey, customer=customers[i % len(customers)], token_hash=hash_token(t), created_at=now,
                       expires_at=now + timezone.timedelta(days=30))
            for i, t in enumerate(tokens)
        ],
        batch_size=5000,
    )  # fmt: skip
    questions = list(survey.current_version.questions.order_by("position").values_list("pk", flat=True))
    return {"page_token": page_token, "tokens": tokens, "questions": questions}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of submit load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (no demo data)")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="langnghe-bench-hooks-")
    env = {**run.environment(var_dir), "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1"}
    if args.reuse:
        data = reuse(env, 20_000)
    else:
        run.recreate_database()
        data = run.prepare(env, submit_tokens=40_000)

    count = multiprocessing.Value("l", 0)
    lags: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receiver_main, args=(RECEIVER_PORT, count, lags), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{RECEIVER_PORT}/hook"
    time.sleep(0.5)

    import redis
    from django.contrib.auth.models import User

    from webhooks import events
    from webhooks.models import WebhookDelivery
    from webhooks.services import endpoint_create, endpoint_disable
    from webhooks.tasks import webhooks_send

    redis.Redis.from_url(run.BENCH_REDIS).flushdb()
    owner = User.objects.get(username="bench")
    baseline = max(baseline_rate(url, 3000), baseline_rate(url, 3000))
    count.value = 0

    # As in docker-compose.yml: the webhook queue's workers (the two measured), and one for everything else.
    workers = start_workers(env, args.workers) + start_workers(env, 1, queue="celery", name="rest")
    server = None
    try:
        time.sleep(4)  # let the workers connect
        # 1. Throughput.
        bulk = endpoint_create(url=url, events=["case.opened"], actor=owner)
        stored = time.perf_counter()
        for start in range(0, args.deliveries, 2000):
            events.events_record(
                [("case.opened", f"bench:{n}", {"n": n}) for n in range(start, min(start + 2000, args.deliveries))]
            )
        stored = time.perf_counter() - stored

        def poke() -> None:
            for _ in range(args.workers):
                webhooks_send.apply_async()

        send_s = wait_for(count, args.deliveries, 300, poke)
        delivered = WebhookDelivery.objects.filter(endpoint=bulk, state="delivered").count()
        received = count.value
        rate = received / send_s
        endpoint_disable(endpoint=bulk, actor=owner)
        time.sleep(1)

        # 2. Lag at the respondent benchmark's load, and the submit ratio with an endpoint subscribed.
        count.value = 0
        endpoint_create(url=url, events=["response.submitted"], actor=owner)
        server = run.start_server(env, args.gunicorn_workers)
        host = f"{run.HOST}:{run.PORT}"
        submit_request, accepted = run.submitter(host, data, comment="Nhanh")

        def scenario(name, make, accept=None, duration=args.duration):  # type: ignore[no-untyped-def]
            return asyncio.run(
                load.run(name, run.HOST, run.PORT, make, clients=args.clients, duration=duration, accept=accept)
            )

        scenario("warm-up", lambda i: load.post("/bench/insert/", host, "q=1"), duration=1.5)
        insert = scenario("one-INSERT view POST", lambda i: load.post("/bench/insert/", host, "q=5"))
        submit = scenario("complete submit POST", submit_request, accept=accepted)
        wait_for(count, submit.accepted, 60)
        got = []
        while not lags.empty():
            got.append(lags.get())
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        receiver.terminate()
        redis.Redis.from_url(run.BENCH_REDIS).flushdb()

    got.sort()
    pct = lambda p: got[min(len(got) - 1, int(p / 100 * len(got)))] if got else float("nan")  # noqa: E731
    print(f"baseline: one process, no database: {baseline:,.0f} POST/s to the receiver")
    print(f"stored {args.deliveries:,} events with their deliveries in {stored:.2f} s")
    print(
        f"throughput: {received:,} delivered ({delivered:,} recorded) in {send_s:.2f} s on {args.workers} workers"
        f" = {rate:,.0f}/s ({rate / baseline:.2f}x the baseline; target >= 500/s)"
    )
    print(
        f"submit load: {submit.accepted:,} responses at {submit.accepted / submit.elapsed:,.0f}/s; one-INSERT view "
        f"{insert.rate:,.0f}/s; submit / one-INSERT = {submit.rate / insert.rate:.2f}x (target >= 0.60x)"
    )
    print(
        f"lag response -> delivery: {len(got):,} received of {submit.accepted:,}; p50 {pct(50):.2f} s, "
        f"p95 {pct(95):.2f} s, p99 {pct(99):.2f} s, max {max(got, default=float('nan')):.2f} s (target < 2 s)"
    )
    if got:
        print(f"mean lag {statistics.mean(got):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
