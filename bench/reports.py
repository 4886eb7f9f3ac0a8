"""Reports benchmark: dashboard, rollups and CSV export at 10,000, 100,000 and 1,000,000 responses (PostgreSQL).

    .venv/bin/python bench/reports.py [--sizes 10000,100000,1000000] [--requests 15]

Data comes from a generator in SQL (generate_series): an NPS survey with a comment question, 10,000 customers in
five segments, responses spread over the last 365 days, a comment on one response in ten. Baselines in the same
run: one hand-written GROUP BY over the same rows (for the rollup rebuild) and PostgreSQL's COPY of the same
responses and answers (for the export).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# BENCH_DB_SUFFIX lets two people run the same benchmark on one PostgreSQL server at once.
DB_NAME = "langnghe_bench_reports" + os.environ.get("BENCH_DB_SUFFIX", "")
SEGMENTS = ["retail", "corporate", "sme", "public-sector", "online"]

GROUP_BY = """
SELECT r.survey_id, a.question_id, r.segment, r.channel, (r.submitted_at AT TIME ZONE %s)::date,
       count(*), count(*) FILTER (WHERE a.number >= 9), count(*) FILTER (WHERE a.number BETWEEN 7 AND 8),
       count(*) FILTER (WHERE a.number <= 6), sum(a.number), sum(a.number * a.number)
FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id
JOIN surveys_question q ON q.id = a.question_id
WHERE a.number IS NOT NULL GROUP BY 1, 2, 3, 4, 5
"""
PLAIN_COPY = """
COPY (SELECT r.id, r.submitted_at, r.version_id, r.language, r.segment, c.name, c.email, a.question_id, a.number,
             a.text
      FROM surveys_response r LEFT JOIN surveys_customer c ON c.id = r.customer_id
      JOIN surveys_answer a ON a.response_id = r.id WHERE r.survey_id = %s) TO STDOUT WITH (FORMAT csv)
"""


def setup_database() -> dict[str, str]:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": tempfile.mkdtemp(prefix="langnghe-bench-"),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
        # Generating a million rows takes longer than a web request may; the dashboard is timed, not cut.
        "DB_STATEMENT_TIMEOUT_MS": "0",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    return env


def grow(survey, target: int, have: int, *, span: str = "365 days") -> None:  # type: ignore[no-untyped-def]
    """Add responses (and their answers) until the survey has `target`, submitted over the last `span`."""
    from django.db import connection

    version = survey.current_version
    score, comment = version.questions.order_by("position")
    count = target - have
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM surveys_customer")
        low, high = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO surveys_response (survey_id, version_id, customer_id, language, submitted_at, segment, channel)
            SELECT %s, %s, c.id, 'vi', g.at, c.segment, 'email'
            FROM (SELECT %s + (random() * (%s - %s))::int AS customer_id,
                         now() - random() * CAST(%s AS interval) - interval '3 minutes' AS at
                  FROM generate_series(1, %s)) g
            JOIN surveys_customer c ON c.id = g.customer_id
            """,
            [survey.pk, version.pk, low, high, low, span, count],
        )
        cursor.execute(
            """
            INSERT INTO surveys_answer (response_id, question_id, number, text)
            SELECT id, %s, LEAST(10, floor(random() * 8 + random() * 4))::int, ''
            FROM surveys_response WHERE survey_id = %s AND id > %s
            """,
            [score.pk, survey.pk, _max_before(cursor, survey, count)],
        )
        cursor.execute(
            """
            INSERT INTO surveys_answer (response_id, question_id, number, text)
            SELECT id, %s, NULL, 'Nhân viên nhiệt tình, giao hàng đúng hẹn #' || id
            FROM surveys_response WHERE survey_id = %s AND id > %s AND id %% 10 = 0
            """,
            [comment.pk, survey.pk, _max_before(cursor, survey, count)],
        )
        cursor.execute("ANALYZE")


def _max_before(cursor, survey, count: int) -> int:  # type: ignore[no-untyped-def]
    cursor.execute("SELECT max(id) FROM surveys_response WHERE survey_id = %s", [survey.pk])
    return cursor.fetchone()[0] - count


def timed(function, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def export_in_subprocess(survey_id: int) -> tuple[float, float]:
    """Time a CSV export in a fresh process and return (seconds, peak RSS in MB)."""
    code = (
        "import os, sys, time, resource, django; sys.path.insert(0, '.'); django.setup();"
        "from datetime import date; from surveys.models import Survey;"
        "from reports.exports import ExportQuery, write_csv;"
        f"survey = Survey.objects.get(pk={survey_id});"
        "query = ExportQuery(survey=survey, start=date(2000, 1, 1), end=date(2100, 1, 1));"
        "started = time.perf_counter();"
        "out = open(os.devnull, 'wb'); rows = write_csv(query, out, progress=lambda n: None);"
        "print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rows)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, rss, _rows = result.stdout.split()
    return float(seconds), float(rss)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--requests", type=int, default=15, help="dashboard requests per size (median reported)")
    parser.add_argument("--export-rounds", type=int, default=3, help="CSV export and COPY rounds per size (medians)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    setup_database()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client

    from accounts.roles import QUALITY_MANAGER
    from customers.models import Customer
    from reports.rollup import rollup_rebuild, rollup_refresh
    from surveys import building

    settings.ALLOWED_HOSTS = ["*"]
    manager = User.objects.create_user("bench", password=secrets.token_urlsafe(12))
    manager.groups.add(Group.objects.get(name=QUALITY_MANAGER))
    survey = building.survey_create(owner=manager, kind="nps", title_en="Bench", title_vi="Bench")
    building.survey_activate(survey=survey)
    Customer.objects.bulk_create(
        Customer(name=f"Khách {i}", email=f"k{i}@example.com", segment=SEGMENTS[i % 5]) for i in range(10_000)
    )
    client = Client()
    client.force_login(manager)
    url = "/reports/"

    have, results = 0, {}
    for size in sizes:
        started = time.perf_counter()
        grow(survey, size, have)
        have = size
        made = time.perf_counter() - started
        rebuild = timed(rollup_rebuild)
        with connection.cursor() as cursor:
            group_by = timed(lambda: cursor.execute(GROUP_BY, [settings.TIME_ZONE]) or cursor.fetchall())
        client.get(url)  # warm
        page = timed(lambda: client.get(url), repeat=args.requests)
        # Alternating rounds, medians: whichever ran first would otherwise read the rows from disk for the other.
        exports, copies = [], []
        with connection.cursor() as cursor, open(os.devnull, "w") as sink:
            for _round in range(args.export_rounds):
                copies.append(timed(lambda: cursor.copy_expert(cursor.mogrify(PLAIN_COPY, [survey.pk]).decode(), sink)))
                exports.append(export_in_subprocess(survey.pk))
        export_s, rss = statistics.median(e[0] for e in exports), max(e[1] for e in exports)
        copy_s = statistics.median(copies)
        results[size] = (page, rebuild, group_by, export_s, copy_s, rss)
        print(
            f"{size:>9,} responses (made in {made:.1f} s): dashboard {page * 1000:.0f} ms median; "
            f"rollup rebuild {rebuild:.2f} s vs GROUP BY {group_by:.2f} s ({rebuild / group_by:.2f}x); "
            f"CSV export {export_s:.2f} s vs COPY {copy_s:.2f} s ({export_s / copy_s:.2f}x), peak RSS {rss:.0f} MB",
            flush=True,
        )

    largest, smallest = max(results), min(results)
    grow(survey, largest + 1000, largest, span="1 hour")  # new answers arrive today
    incremental = timed(rollup_refresh)
    page_large, page_small = results[largest][0], results[smallest][0]
    print()
    print(
        f"dashboard at {largest:,}: {page_large * 1000:.0f} ms (target < 300 ms) "
        f"{'PASS' if page_large < 0.3 else 'FAIL'}"
    )
    growth = page_large / page_small
    print(f"dashboard {largest:,} / {smallest:,}: {growth:.2f}x (target <= 1.5x) {'PASS' if growth <= 1.5 else 'FAIL'}")
    ratio = results[largest][1] / results[largest][2]
    print(f"rollup rebuild / GROUP BY at {largest:,}: {ratio:.2f}x (target <= 2x) {'PASS' if ratio <= 2 else 'FAIL'}")
    print(f"incremental rollup after 1,000 new responses: {incremental:.2f} s (target < 1 s) "
          f"{'PASS' if incremental < 1 else 'FAIL'}")  # fmt: skip
    export_ratio = results[largest][3] / results[largest][4]
    print(
        f"CSV export / COPY at {largest:,}: {export_ratio:.2f}x (target <= 3x) "
        f"{'PASS' if export_ratio <= 3 else 'FAIL'}"
    )
    print("peak RSS of the export: " + ", ".join(f"{s:,}: {r[5]:.0f} MB" for s, r in sorted(results.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
