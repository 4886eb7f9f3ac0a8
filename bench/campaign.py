"""Campaign benchmark: create N invitations, then have Celery workers hand them to a local SMTP server.

    .venv/bin/python bench/campaign.py [--customers 100000] [--workers 2] [--concurrency 1]

Needs PostgreSQL (BENCH_PG) and Redis (BENCH_REDIS, database 15 is used and emptied). The SMTP server is aiosmtpd
in forked processes, one per connection (see SmtpServer), accepting and counting messages. Baseline in the same
run: Django's SMTP backend sending the same kind of message over one reused connection, from one process.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
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
# BENCH_DB_SUFFIX lets two people run the same benchmark on one PostgreSQL server at once.
DB_NAME = "langnghe_bench_campaign" + os.environ.get("BENCH_DB_SUFFIX", "")


class Sink:
    """Counts the messages handed over. `delay` stands for a real server's per-message round trips."""

    def __init__(self, delay: float, counter, pipelining: bool, stopping=None) -> None:  # type: ignore[no-untyped-def]
        self.delay = delay
        self.counter = counter
        self.pipelining = pipelining
        self.stopping = stopping

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.stopping is not None and self.stopping.value:
            # A graceful stop, as an MTA's: the transaction under way was finished; the next one is refused with
            # a temporary code and the connection closed (after the reply: close is queued behind the write).
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        # Postfix offers RFC 2920 pipelining by default; aiosmtpd reads pipelined commands in order.
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


class DelayedWrites:
    """What the server writes reaches the client `delay` seconds later, in order: the network's round trip, paid
    each time a client waits for a reply (four times per message without pipelining, once with it)."""

    def __init__(self, transport: asyncio.WriteTransport, delay: float) -> None:
        self.write_now, self.close_now = transport.write, transport.close
        transport.write, transport.close = self.write, self.close  # type: ignore[method-assign]
        self.loop = asyncio.get_running_loop()
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.delay = delay

    def write(self, data: bytes | None) -> None:
        self.queue.append((self.loop.time() + self.delay, data))
        if len(self.queue) == 1:
            self.loop.call_at(self.queue[0][0], self.flush)

    def close(self) -> None:  # after what was written before it (a reply of "221 Bye" is then read)
        self.write(None)

    def flush(self) -> None:
        # The loop may run a timer up to its clock resolution early: a write due by then is due now.
        now = self.loop.time() + self.loop._clock_resolution  # noqa: SLF001
        while self.queue and self.queue[0][0] <= now:
            data = self.queue.popleft()[1]
            if data is None:
                self.close_now()
            else:
                self.write_now(data)
        if self.queue:
            self.loop.call_at(self.queue[0][0], self.flush)


class SmtpServer:
    """A local SMTP server shaped like a real MTA (Postfix's master forks an smtpd per connection): a listening
    process forks one aiosmtpd process per connection, so that connections do not queue behind each other in one
    Python thread, and neither the baseline nor the workers share a process (or the GIL) with the server."""

    def __init__(self, delay: float, pipelining: bool, rtt: float = 0.0) -> None:
        import multiprocessing

        self.count = multiprocessing.Value("q", 0)
        self.stopping = multiprocessing.Value("b", 0)
        self.delay, self.pipelining, self.rtt = delay, pipelining, rtt
        self.port = 0
        self.start()

    def start(self) -> None:
        """Listen (again, on the same port after a stop)."""
        self.stopping.value = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.pid = os.fork()
        if self.pid == 0:
            os.setpgid(0, 0)  # its connection processes too: stop() ends them all, as a stopped MTA would
            self._accept_forever()
        self.listener.close()

    def _accept_forever(self) -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
        while True:
            connection, _address = self.listener.accept()
            # As servers do (asyncio's own listeners too): replies to pipelined commands must not wait for ACKs.
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if os.fork() == 0:
                self.listener.close()
                self._serve(connection)
                os._exit(0)
            connection.close()

    def _serve(self, connection: socket.socket) -> None:
        from aiosmtpd.smtp import SMTP

        async def session() -> None:
            loop = asyncio.get_running_loop()
            closed = loop.create_future()
            handler = Sink(self.delay, self.count, self.pipelining, self.stopping)

            def protocol() -> SMTP:
                smtp = SMTP(handler, hostname="127.0.0.1")
                original, made = smtp.connection_lost, smtp.connection_made

                def connected(transport):  # type: ignore[no-untyped-def]
                    if self.rtt:
                        DelayedWrites(transport, self.rtt)
                    made(transport)

                smtp.connection_made = connected  # type: ignore[method-assign]

                def lost(error):  # type: ignore[no-untyped-def]
                    original(error)
                    if not closed.done():
                        closed.set_result(None)

                smtp.connection_lost = lost  # type: ignore[method-assign]
                return smtp

            await loop.connect_accepted_socket(protocol, connection)
            await closed

        asyncio.run(session())

    def _group(self) -> list[str]:
        found = subprocess.run(["pgrep", "-g", str(self.pid)], capture_output=True, text=True, check=False)  # noqa: S607
        return found.stdout.split()

    @property
    def received(self) -> int:
        return self.count.value

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0

    def stop(self, graceful: bool = False) -> None:
        """Kill the server and its connections at once (a crash: a message whose data was taken may never get its
        250, and is sent again), or, `graceful`, let each connection finish its transaction and refuse the next
        with 421 before the listener goes."""
        if graceful:
            self.stopping.value = 1
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(self._group()) > 1:  # the listener and its connections
                time.sleep(0.1)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed per program (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        program = stat[stat.index("(") + 1 : stat.rindex(")")]
        if program.startswith("python") or program.startswith("celery"):
            program = "celery worker" if b"worker" in cmdline else "benchmark + SMTP server"
        totals[program] = totals.get(program, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=1, help="children (or threads) per worker")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"], help="Celery's worker pool")
    parser.add_argument("--baseline", type=int, default=3000, help="messages the baseline sends (about 15 s)")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=1.0,
        help="network round trip: the SMTP server's replies reach the client this much later (0: none)",
    )
    parser.add_argument(
        "--smtp-delay-ms",
        type=float,
        default=0.0,
        help="the SMTP server's own work per message before it accepts it (0: none)",
    )
    parser.add_argument(
        "--no-pipelining", action="store_true", help="the SMTP server does not offer pipelining (RFC 2920)"
    )
    parser.add_argument(
        "--smtp-outage", type=float, default=0.0, help="seconds the SMTP server is stopped in the middle (0: none)"
    )
    parser.add_argument(
        "--smtp-stop",
        default="kill",
        choices=["kill", "graceful"],
        help="how the server stops: killed with its connections, or each connection's transaction finished first",
    )
    parser.add_argument(
        "--retry-base", type=int, default=60, help="INVITATION_RETRY_BASE_SECONDS of the workers (backoff 1x, 2x, ...)"
    )
    args = parser.parse_args()

    import psycopg2
    import redis

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()
    redis.Redis.from_url(REDIS).flushdb()

    sink = SmtpServer(args.smtp_delay_ms / 1000, pipelining=not args.no_pipelining, rtt=args.rtt_ms / 1000)
    port = sink.port

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
        "CELERY_LOG_LEVEL": "WARNING",
        "PROCESS_ROLE": "worker",
        "INVITATION_RETRY_BASE_SECONDS": str(args.retry_base),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.mail import get_connection

    from customers.models import Customer
    from surveys import building, campaigns
    from surveys.models import Invitation

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
    from surveys.campaigns.messages import MessageTemplates
    from surveys.invitations import invitation_create

    base_survey = building.survey_create(owner=owner, kind="nps", title_en="Baseline", title_vi="Baseline")
    building.survey_activate(survey=base_survey)
    extra = Customer.objects.bulk_create(
        Customer(name=f"B {i}", email=f"b{i}@example.com") for i in range(2 * args.baseline)
    )
    pairs = [invitation_create(survey=base_survey, customer=c) for c in extra]
    templates = MessageTemplates()

    def baseline_rate(batch) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        connection = get_connection()
        connection.open()
        for invitation, token in batch:
            connection.send_messages([templates.message(invitation, token)])
        connection.close()
        rate = len(batch) / (time.perf_counter() - started)
        sink.reset()
        return rate

    # Once before the campaign and once after it; the faster of the two is the one to beat (this machine's speed
    # drifts between runs and within one).
    baselines = [baseline_rate(pairs[: args.baseline])]

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
                f"--pool={args.pool}",
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
        cpu_before = cpu_by_program()
        started = time.perf_counter()
        campaigns.campaign_start(campaign=campaign)
        queued_s = time.perf_counter() - started
        total = args.customers
        # Beat's part, in this process: the dispatcher hands out queued invitations, re-queues deferred ones when
        # their time comes and expired leases, and marks the campaign sent when nothing is left.
        campaigns.invitations_dispatch()
        outage = {"at": None, "back": None}
        while (
            campaign_left := Invitation.objects.filter(campaign=campaign, status__in=campaigns.UNDELIVERED).count()
        ) and time.perf_counter() - started < 3600:
            if args.smtp_outage and outage["at"] is None and sink.received >= total // 2:
                sink.stop(graceful=args.smtp_stop == "graceful")  # the SMTP server goes away half-way
                outage["at"] = time.perf_counter()
            stopped = outage["at"] is not None and outage["back"] is None
            if stopped and time.perf_counter() - outage["at"] >= args.smtp_outage:
                sink.start()
                outage["back"] = time.perf_counter()
            time.sleep(2)
            campaigns.invitations_dispatch()
        del campaign_left
        finished = time.perf_counter()
        send_s = finished - started
        cpu_after = cpu_by_program()
        received = sink.received
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    baselines.append(baseline_rate(pairs[args.baseline :]))
    sink.stop()
    if outage["at"] is not None:
        print(
            f"SMTP server stopped ({args.smtp_stop}) for {args.smtp_outage:.0f} s half-way; after it returned "
            "everything was handed over "
            f"in {finished - (outage['back'] or finished):.0f} s (retry backoff from {args.retry_base} s)"
        )
    baseline = max(baselines)
    sent = Invitation.objects.filter(campaign=campaign, status="sent").count()
    connections = args.workers * args.concurrency
    # Sending starts when campaign_start commits and the dispatcher hands out the chunks: the rate counts from there.
    rate = received / (send_s - queued_s - (args.smtp_outage if outage["at"] is not None else 0))
    print(
        f"SMTP server: round trip {args.rtt_ms} ms, own work per message {args.smtp_delay_ms} ms; "
        f"pipelining offered: {'no' if args.no_pipelining else 'yes'}"
    )
    print(
        "baseline: Django SMTP backend, the same emails, one connection: "
        f"{baselines[0]:.0f} messages/s before the campaign, {baselines[1]:.0f} after"
    )
    print(
        f"invitations created: {args.customers:,} in {build_s:.1f} s (target < 30 s) "
        f"{'PASS' if build_s < 30 else 'FAIL'}; build + enqueue in campaign_start: {queued_s:.1f} s"
    )
    print(
        f"handed to SMTP: {received:,} in {send_s - queued_s:.1f} s after the build = {rate:.0f}/s over "
        f"{connections} connections, {rate / connections:.0f}/s per connection "
        f"({rate / connections / baseline:.2f}x the baseline)"
    )
    print(
        f"all built and handed over in {send_s:.0f} s, under 5 minutes: "
        f"{'PASS' if received >= total and send_s < 300 else 'FAIL'}; "
        f"invitations marked sent: {sent:,}, messages the server took: {received:,} "
        f"(exactly once: {'PASS' if sent == received == total else 'FAIL'})"
    )
    used = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    print("CPU time per message handed over, by program (ms):")
    for name, seconds in sorted(used.items(), key=lambda item: -item[1])[:6]:
        print(f"  {name:<28} {seconds * 1000 / max(received, 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
