"""Where an API invitation request's CPU goes, without gunicorn or a load generator: the request and the one-INSERT
view, each run through Django's WSGI handler in this process against bench/api.py's database, with the CPU of this
process and of its PostgreSQL backend counted per request.

    .venv/bin/python bench/api_inprocess.py [--requests 1500] [--rounds 2] [--reuse] [--profile] [--view insert]

A measuring tool, not a benchmark with a target (bench/api.py has the target). The figures are steadier than a
loaded server's: the CPU of one process and its backend, not the rate of a machine shared with other work. Use it
to compare two versions of the code on one machine (alternate them), and `--profile` (cProfile with a CPU-time
clock: it inflates code that makes many small calls) to see which part of the request moved.

The first run builds the database (BENCH_DB_SUFFIX, as bench/api.py: default `_inprocess`) and remembers it in
var/bench-api-inprocess.json; `--reuse` takes it again with fresh customers.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DB_SUFFIX", "_inprocess")

from bench import api as bench_api  # noqa: E402
from bench.run import HOST, PORT, environment, recreate_database  # noqa: E402

STATE = ROOT / "var" / "bench-api-inprocess.json"


def backend_cpu(connection) -> float:  # type: ignore[no-untyped-def]
    """Seconds of CPU the PostgreSQL backend serving `connection` has used (from /proc: same machine only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500, help="requests per round")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds, after one to warm up")
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--reuse", action="store_true", help="the database of the last run, with fresh customers")
    parser.add_argument("--profile", action="store_true", help="cProfile (CPU clock) over the last round")
    parser.add_argument("--view", choices=["api", "insert"], default="api", help="insert: the one-INSERT view")
    parser.add_argument("--lines", type=int, default=60, help="lines of the profile to print")
    args = parser.parse_args()

    if args.reuse and STATE.exists():
        state = json.loads(STATE.read_text())
        os.environ.update(state["env"])
        import django

        django.setup()
    else:
        env = environment(tempfile.mkdtemp(prefix="langnghe-bench-inprocess-"))
        env["API_RATE_PER_MINUTE"] = "100000000"  # counted (one Redis call per request), never reached
        recreate_database()
        state = {"env": env, "data": bench_api.prepare(env, args.customers, 20_000), "offset": 0}
        STATE.parent.mkdir(exist_ok=True)
        STATE.write_text(json.dumps(state))
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    data, offset = state["data"], state["offset"]
    customers = data["customers"]
    if args.view == "api" and offset + (args.rounds + 1) * args.requests > len(customers):
        raise SystemExit("Not enough fresh customers left: run once without --reuse (or with more --customers).")
    app = WSGIHandler()
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        statuses[status] = statuses.get(status, 0) + 1

    def environ(customer: int, number: int) -> dict:
        if args.view == "insert":
            path, body, kind = "/bench/insert/", b"q=5", "application/x-www-form-urlencoded"
        else:
            path, kind = "/api/v1/invitations/", "application/json"
            body = json.dumps({"survey": data["survey"], "customer_id": customer, "send": False}).encode()
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": str(PORT),
            "HTTP_HOST": f"{HOST}:{PORT}",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_TYPE": kind,
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {data['secret']}",
            "HTTP_IDEMPOTENCY_KEY": f"inprocess-{customer}-{number}",
        }

    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for number in range(args.rounds + 1):
        # Built before the clock starts: the request's own work only.
        environs = [environ(customers[(offset + k) % len(customers)], k) for k in range(args.requests)]
        if args.view == "api":
            offset += args.requests  # each API request asks a customer not asked before
        pg, cpu, wall = backend_cpu(connection), time.process_time(), time.perf_counter()
        if profiler is not None and number == args.rounds:
            profiler.enable()
        for item in environs:
            answer = b"".join(app(item, start_response))
            if args.view == "api" and b'"state":"queued"' not in answer:
                raise SystemExit(f"unexpected answer: {answer[:300]!r}")
        if profiler is not None and number == args.rounds:
            profiler.disable()
        cpu, wall, pg = time.process_time() - cpu, time.perf_counter() - wall, backend_cpu(connection) - pg
        if number:  # the first round warms the caches and prepares the statements
            per = 1000 / args.requests
            print(
                f"{args.view} round {number}: Python {cpu * per:.3f} ms CPU, PostgreSQL backend {pg * per:.3f} ms "
                f"CPU, wall {wall * per:.3f} ms per request"
            )
    state["offset"] = offset
    STATE.write_text(json.dumps(state))
    print("answers:", statuses)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
