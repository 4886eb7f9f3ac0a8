"""Benchmarks of the respondent path and of demo-data generation, on PostgreSQL.

    make bench                     # or: .venv/bin/python bench/run.py [--duration 8] [--clients 32]

Creates (and drops) the database `langnghe_bench` on the server given by BENCH_PG (default
postgres://postgres@127.0.0.1:5432), serves the app with gunicorn using production settings, and measures in one run:
a bare Django view, a one-INSERT view, the respondent page GET and a complete submit. Timings are reported as ratios
against the baselines measured in the same run, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# BENCH_DB_SUFFIX lets two people run the same benchmark on one PostgreSQL server at once.
DB_NAME = "langnghe_bench" + os.environ.get("BENCH_DB_SUFFIX", "")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BENCH_REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
# Scores as a campaign brings them (the demo's shape): 20 % detractors, each of which also hands the closed loop's
# task to the broker. Set BENCH_DETRACTORS=1 for the worst case, where every answer is a detractor.
SCORES = [3] * 20 + [7] * 16 + [8] * 16 + [9] * 24 + [10] * 24
if os.environ.get("BENCH_DETRACTORS") == "1":
    SCORES = [0, 1, 2, 3, 4, 5, 6]
HOST = "127.0.0.1"

from bench import load  # noqa: E402


def environment(var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        # Production refuses an http:// site URL; links are built from it but never fetched here.
        "SITE_URL": f"https://{HOST}:{PORT}",
        "SECURE_SSL_REDIRECT": "0",
        "VAR_DIR": var_dir,
        # As in production, follow-up work (the closed loop's case for a detractor) is handed to the broker;
        # no worker runs here, and the bench database is emptied afterwards.
        "REDIS_URL": BENCH_REDIS,
    }


def recreate_database() -> None:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()


def prepare(env: dict[str, str], submit_tokens: int) -> dict:
    for args in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    import random

    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from customers.models import Customer
    from surveys import building, demo
    from surveys.invitations import invitation_create
    from surveys.models import Invitation, hash_token

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_ping (id bigserial PRIMARY KEY, payload text, "
            "created timestamptz NOT NULL DEFAULT now())"
        )
    owner = User.objects.create_user("bench", password=secrets.token_urlsafe(12))
    rng = random.Random(1)
    customers = demo.ensure_customers(2000, rng)
    surveys = demo.ensure_surveys(owner)

    # Demo-data generation: 100,000 responses in bulk (target: under 30 s).
    started = time.perf_counter()
    made = demo.generate_responses(surveys=surveys, customers=customers, total=100_000, rng=rng)
    generation = time.perf_counter() - started

    survey = building.survey_create(owner=owner, kind="nps", title_en="Bench", title_vi="Bench")
    building.survey_activate(survey=survey)
    page_invitation, page_token = invitation_create(survey=survey, customer=customers[0])
    now = timezone.now()
    tokens = [secrets.token_urlsafe(32) for _ in range(submit_tokens)]
    Invitation.objects.bulk_create(
        [
            Invitation(
                survey=survey,
                customer=customers[i % len(customers)],
                token_hash=hash_token(t),
                created_at=now,
                expires_at=now + timezone.timedelta(days=30),
            )
            for i, t in enumerate(tokens)
        ],
        batch_size=5000,
    )
    questions = list(survey.current_version.questions.order_by("position"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE") if connection.in_atomic_block is False else None
    connection.close()
    _ = Customer  # imported for clarity of what ensure_customers made
    return {
        "survey_id": survey.pk,
        "page_token": page_token,
        "tokens": tokens,
        "questions": [q.pk for q in questions],
        "generated": made,
        "generation_s": generation,
        "page_invitation": page_invitation.pk,
    }


def start_server(env: dict[str, str], workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(workers),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://{HOST}:{PORT}/bench/bare/", timeout=1)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def submitter(host: str, data: dict, comment: str = "Giao+h%C3%A0ng+nhanh"):  # type: ignore[no-untyped-def]
    """What a browser posts for each complete answer (a score from SCORES and a comment, with the hidden fields the
    form carries: language, version, survey stamp, read once), one unused link each, and what counts as accepted
    (the redirect to the thank-you page). Shared by the benchmarks that submit answers."""
    page_html = urllib.request.urlopen(f"http://{host}/s/{data['page_token']}/").read().decode()  # noqa: S310
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page_html))
    hidden_query = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in hidden.items() if k != "lang")
    tokens, (nps_q, comment_q) = data["tokens"], data["questions"][:2]
    next_token = iter(range(len(tokens)))

    def submit_request(_i: int) -> bytes | None:
        i = next(next_token, None)
        if i is None:
            return None
        body = f"q{nps_q}={SCORES[i % len(SCORES)]}&q{comment_q}={comment}&lang=vi&{hidden_query}"
        return load.post(f"/s/{tokens[i]}/", host, body)

    def accepted(status: int, raw: bytes) -> bool:
        return status == 302 and b"/thanks/" in raw.split(b"\r\n\r\n", 1)[0]

    return submit_request, accepted


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="langnghe-bench-")
    env = environment(var_dir)
    recreate_database()
    data = prepare(env, submit_tokens=60_000)
    print(
        f"demo generation: {data['generated']:,} responses in {data['generation_s']:.1f} s on PostgreSQL "
        f"(target < 30 s)"
    )

    server = start_server(env, args.workers)
    host = f"{HOST}:{PORT}"
    try:

        def scenario(name, make, accept=None, duration=args.duration):
            return asyncio.run(load.run(name, HOST, PORT, make, clients=args.clients, duration=duration, accept=accept))

        # Warm every worker and code path first.
        scenario("warm-up", lambda i: load.get("/bench/bare/", host), duration=1.5)
        scenario("warm-up", lambda i: load.get(f"/s/{data['page_token']}/", host), duration=1.5)
        scenario("warm-up", lambda i: load.post("/bench/insert/", host, "q=1"), duration=1.5)

        submit_request, accepted = submitter(host, data)

        # Interleaved rounds: each ratio compares scenarios measured a few seconds apart, and the median of the
        # rounds is reported, because the load on these shared machines drifts.
        rounds = []
        for _ in range(args.rounds):
            bare = scenario("bare view GET", lambda i: load.get("/bench/bare/", host))
            page = scenario("respondent page GET", lambda i: load.get(f"/s/{data['page_token']}/?score=9", host))
            insert = scenario("one-INSERT view POST", lambda i: load.post("/bench/insert/", host, "q=5"))
            submit = scenario("complete submit POST", submit_request, accept=accepted)
            rounds.append((bare, page, insert, submit))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    import redis

    redis.Redis.from_url(BENCH_REDIS).flushdb()
    from surveys.models import Answer, Response

    stored = Response.objects.filter(survey_id=data["survey_id"]).count()
    stored_answers = Answer.objects.filter(response__survey_id=data["survey_id"]).count()

    print()
    for number, results in enumerate(rounds, start=1):
        bare, page, insert, submit = results
        print(f"round {number}: page/bare {page.rate / bare.rate:.2f}x, submit/insert {submit.rate / insert.rate:.2f}x")
        for result in results:
            print("  " + result.line())
    page_ratio = statistics.median(p.rate / b.rate for b, p, _i, _s in rounds)
    submit_ratio = statistics.median(s.rate / i.rate for _b, _p, i, s in rounds)
    worst_p99 = max(max(p.pct(99), s.pct(99)) for _b, p, _i, s in rounds)
    accepted_total = sum(s.accepted for *_rest, s in rounds)
    exact = stored == accepted_total and stored_answers == 2 * stored
    print()
    print("median of the rounds:")
    print(f"page / bare view        = {page_ratio:.2f}x  (target >= 0.25x) {'PASS' if page_ratio >= 0.25 else 'FAIL'}")
    print(
        f"submit / one-INSERT     = {submit_ratio:.2f}x  (target >= 0.60x) {'PASS' if submit_ratio >= 0.6 else 'FAIL'}"
    )
    print(f"worst p99 page/submit   = {worst_p99:.1f} ms (target < 150 ms) {'PASS' if worst_p99 < 150 else 'FAIL'}")
    print(
        f"stored responses        = {stored} for {accepted_total} accepted submissions, {stored_answers} answers "
        f"{'PASS' if exact else 'FAIL'}"
    )
    print(
        f"demo generation 100k    = {data['generation_s']:.1f} s (target < 30 s) "
        f"{'PASS' if data['generation_s'] < 30 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
