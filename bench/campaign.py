"""Campaign benchmark: create N invitations, then have Celery workers hand them to a local SMTP server.

    .venv/bin/python bench/campaign.py [--customers 100000] [--workers 2] [--concurrency 2]

Needs PostgreSQL (BENCH_PG) and Redis (BENCH_REDIS, database 15 is used and emptied). The SMTP server is aiosmtpd
in this process, accepting and counting messages. Baseline in the same run: Django's SMTP backend sending the same
kind of message over one reused connection, from one process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
DB_NAME = "langnghe_bench_campaign"


class Sink:
    """Accepts and counts messages. `delay` stands for a real server's per-message round trips."""

    def __init__(self, delay: float) -> None:
        self.count = 0
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="prefork children per worker")
    parser.add_argument("--baseline", type=int, default=1000)
    parser.add_argument(
        "--smtp-delay-ms",
        type=float,
        default=3.0,
        help="per-message delay of the SMTP server, standing for network round trips (0: none)",
    )
    args = parser.parse_args()

    import psycopg2
    import redis
    from aiosmtpd.controller import Controller

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()
    redis.Redis.from_url(REDIS).flushdb()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink(args.smtp_delay_ms / 1000)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": tempfile.mkdtemp(prefix="langnghe-bench-"),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.mail import get_connection

    from surveys import building, campaigns
    from surveys.models import Customer, Invitation

    owner = User.objects.create_user("bench", password=secrets.token_urlsafe(12))
    survey = building.survey_create(owner=owner, kind="nps", title_en="Bench", title_vi="Bench")
    building.survey_activate(survey=survey)
    Customer.objects.bulk_create(
        (
            Customer(name=f"Khách {i}", email=f"k{i}@example.com", language="vi" if i % 3 else "en", segment="retail")
            for i in range(args.customers)
        ),
        batch_size=5000,
    )

    # Baseline: Django's SMTP backend sending the same invitation emails over one reused connection.
    from surveys.invitations import invitation_create
    from surveys.mailing import MessageTemplates

    base_survey = building.survey_create(owner=owner, kind="nps", title_en="Baseline", title_vi="Baseline")
    building.survey_activate(survey=base_survey)
    extra = Customer.objects.bulk_create(
        Customer(name=f"B {i}", email=f"b{i}@example.com") for i in range(args.baseline)
    )
    pairs = [invitation_create(survey=base_survey, customer=c) for c in extra]
    templates = MessageTemplates()
    started = time.perf_counter()
    connection = get_connection()
    connection.open()
    for invitation, token in pairs:
        connection.send_messages([templates.message(invitation, token)])
    connection.close()
    baseline = args.baseline / (time.perf_counter() - started)
    sink.count = 0

    campaign = campaigns.campaign_create(survey=survey, created_by=owner, name="Bench")
    started = time.perf_counter()
    campaigns.campaign_build(campaign=campaign)
    build_s = time.perf_counter() - started

    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--concurrency={args.concurrency}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"bench{i}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for i in range(args.workers)
    ]
    try:
        time.sleep(3)  # let the workers connect
        campaign.status = "scheduled"
        campaign.save(update_fields=["status"])
        Invitation.objects.filter(campaign=campaign).delete()  # campaign_start builds again, timed with sending
        started = time.perf_counter()
        campaigns.campaign_start(campaign=campaign)
        queued_s = time.perf_counter() - started
        total = args.customers
        while sink.count < total and time.perf_counter() - started < 900:
            time.sleep(1)
        send_s = time.perf_counter() - started
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
        controller.stop()
    sent = Invitation.objects.filter(campaign=campaign, status="sent").count()
    connections = args.workers * args.concurrency
    rate = sink.count / send_s
    print(f"SMTP server delay per message: {args.smtp_delay_ms} ms")
    print(f"baseline: Django SMTP backend, the same emails, one connection: {baseline:.0f} messages/s")
    print(
        f"invitations created: {args.customers:,} in {build_s:.1f} s (target < 30 s) "
        f"{'PASS' if build_s < 30 else 'FAIL'}; build + enqueue in campaign_start: {queued_s:.1f} s"
    )
    print(
        f"handed to SMTP: {sink.count:,} in {send_s:.1f} s = {rate:.0f}/s over {connections} connections, "
        f"{rate / connections:.0f}/s per connection ({rate / connections / baseline:.2f}x the baseline)"
    )
    print(
        f"all handed over in under 5 minutes: {'PASS' if sink.count >= total and send_s < 300 else 'FAIL'}; "
        f"invitations marked sent: {sent:,} (exactly once: {'PASS' if sent == sink.count else 'FAIL'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
