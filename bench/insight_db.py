"""Insight on PostgreSQL: the dashboard with comment themes at 1,000,000 responses, and the incremental sweep.

    BENCH_DB_SUFFIX=_mine .venv/bin/python bench/insight_db.py [--sizes 100000,1000000] [--arrivals 20000]

Responses come from bench/reports.py's SQL generator (a comment on one in ten); their comments get themes in SQL
(one theme each, a second on one in three), as the worker would have written them, so that the figure is the
dashboard's reading cost, not the model's. Baseline in the same run: the same page with no theme rows yet.

The theme figures read the daily rollups (insight/rollups.py), rebuilt once after that SQL; the page is timed with
the cache cleared before each request, and the same four aggregates over the raw comment rows (the path before the
rollups) are timed alone for comparison.

Then `--arrivals` new responses with real comments (the bundled rows, some without diacritics) arrive at once, and
one sweep (one worker, as beat runs it) reads them: its rate says whether it keeps up with the respondent
benchmark's ~1,550 submits/s, of which a third carry a comment, within the minute.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BENCH_DB_SUFFIX"] = os.environ.get("BENCH_DB_SUFFIX", "") + "_insight"
# Generating a million rows takes longer than a web request's statement timeout.
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")

from bench.reports import SEGMENTS, grow, setup_database, timed  # noqa: E402

THEMES_SQL = """
INSERT INTO insight_commentinsight (answer_id, response_id, survey_id, submitted_at, score, score_kind, sentiment,
                                    sentiment_confidence, revision, corrected, computed_at)
SELECT a.id, r.id, r.survey_id, r.submitted_at, s.number, 'nps',
       (ARRAY['negative', 'neutral', 'positive'])[1 + a.id %% 3], 0.8, %s, false, now()
FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id
LEFT JOIN surveys_answer s ON s.response_id = r.id AND s.question_id = %s
WHERE a.text <> '' AND r.survey_id = %s
  AND NOT EXISTS (SELECT 1 FROM insight_commentinsight c WHERE c.answer_id = a.id);
INSERT INTO insight_commenttheme (comment_id, theme_id, confidence, source, survey_id, submitted_at, score)
SELECT c.id, t.ids[1 + c.id %% array_length(t.ids, 1)], 0.7, 'model', c.survey_id, c.submitted_at, c.score
FROM insight_commentinsight c, (SELECT array_agg(id ORDER BY id) AS ids FROM insight_theme) t
WHERE NOT EXISTS (SELECT 1 FROM insight_commenttheme x WHERE x.comment_id = c.id)
UNION ALL
SELECT c.id, t.ids[1 + (c.id + 3) %% array_length(t.ids, 1)], 0.4, 'model', c.survey_id, c.submitted_at, c.score
FROM insight_commentinsight c, (SELECT array_agg(id ORDER BY id) AS ids FROM insight_theme) t
WHERE c.id %% 3 = 0 AND NOT EXISTS (SELECT 1 FROM insight_commenttheme x WHERE x.comment_id = c.id);
ANALYZE insight_commentinsight; ANALYZE insight_commenttheme;
"""


RAW_THEME_SQL = """
SELECT count(*) FROM insight_commentinsight WHERE survey_id = %(s)s AND submitted_at >= now() - interval '1 year';
SELECT theme_id, count(*), count(score), sum(score), sum(score * score) FROM insight_commenttheme
WHERE survey_id = %(s)s AND submitted_at >= now() - interval '1 year' GROUP BY theme_id;
SELECT date_trunc('month', submitted_at), count(*) FROM insight_commentinsight
WHERE survey_id = %(s)s AND submitted_at >= now() - interval '1 year' GROUP BY 1;
SELECT date_trunc('month', submitted_at), count(*) FROM insight_commenttheme
WHERE survey_id = %(s)s AND theme_id = (SELECT min(id) FROM insight_theme)
  AND submitted_at >= now() - interval '1 year' GROUP BY 1;
"""


def raw_theme_queries(connection, survey_id: int) -> None:  # type: ignore[no-untyped-def]
    """The four aggregates the dashboard's theme part ran on the comment rows before the rollups (the baseline)."""
    with connection.cursor() as cursor:
        cursor.execute(RAW_THEME_SQL, {"s": survey_id})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--arrivals", type=int, default=20_000)
    args = parser.parse_args()
    setup_database()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from accounts.roles import QUALITY_MANAGER
    from customers.models import Customer
    from insight import corpus, pipeline, rollups, services
    from insight.models import CommentInsight, InsightState
    from insight.text import fold
    from reports.rollup import rollup_rebuild
    from surveys import building
    from surveys.models import Answer, Response

    settings.ALLOWED_HOSTS = ["*"]
    from config.celery import app

    # As in production, a worker reads the comments: the page must not catch up (the embedded mode's shortcut).
    app.conf.task_always_eager = False
    manager = User.objects.create_user("bench", password=secrets.token_urlsafe(12))
    manager.groups.add(Group.objects.get(name=QUALITY_MANAGER))
    survey = building.survey_create(owner=manager, kind="nps", title_en="Bench", title_vi="Bench")
    building.survey_activate(survey=survey)
    Customer.objects.bulk_create(
        Customer(name=f"Khách {i}", email=f"k{i}@example.com", segment=SEGMENTS[i % 5]) for i in range(10_000)
    )
    services.themes_seed_starter()
    score_question = survey.current_version.questions.order_by("position").first()
    client = Client()
    client.force_login(manager)
    url = "/reports/"

    def uncached() -> None:
        cache.clear()  # every figure computed again: the first visit after the worker wrote
        client.get(url)

    have = 0
    for size in [int(s) for s in args.sizes.split(",")]:
        started = time.perf_counter()
        grow(survey, size, have)
        have = size
        rollup_rebuild()
        made = time.perf_counter() - started
        client.get(url)
        bare = timed(uncached, repeat=args.requests)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(THEMES_SQL, [InsightState.load().revision, score_question.pk, survey.pk])
        themed = time.perf_counter() - started
        InsightState.objects.filter(pk=1).update(
            watermark=Answer.objects.order_by("-pk").values_list("pk", flat=True)[0]
        )
        started = time.perf_counter()
        rollups.rollups_rebuild()  # the SQL above wrote no change journal: the rollups are built once from it
        rebuilt = time.perf_counter() - started
        client.get(url)
        page = timed(uncached, repeat=args.requests)
        cached = timed(lambda: client.get(url), repeat=args.requests)
        raw = timed(lambda: raw_theme_queries(connection, survey.pk), repeat=5)
        comments = CommentInsight.objects.count()
        print(
            f"{size:>9,} responses ({comments:,} comments with themes; made in {made:.0f} s + {themed:.0f} s; "
            f"rollups rebuilt in {rebuilt:.1f} s): dashboard with themes, not cached, {page * 1000:.0f} ms median "
            f"vs {bare * 1000:.0f} ms before the theme rows ({page / bare:.2f}x); cached {cached * 1000:.0f} ms; "
            f"the theme figures from the raw rows (the former path) took {raw * 1000:.0f} ms alone",
            flush=True,
        )

    rng = random.Random(3)
    texts = [r.text for r in corpus.rows()]
    version = survey.current_version
    score, comment = version.questions.order_by("position")
    responses = Response.objects.bulk_create(
        Response(survey=survey, version=version, language="vi") for _ in range(args.arrivals)
    )
    Answer.objects.bulk_create(
        [Answer(response=r, question=score, number=rng.randint(0, 10)) for r in responses]
        + [
            Answer(response=r, question=comment, text=fold(t) if rng.random() < 0.3 else t)
            for r, t in zip(responses, (rng.choice(texts) for _ in responses), strict=False)
        ],
        batch_size=5000,
    )
    pipeline.engine_current()  # a worker trains once when it starts (or when the theme list changes)
    started = time.perf_counter()
    read = pipeline.comments_sweep()
    elapsed = time.perf_counter() - started
    again = pipeline.comments_sweep()
    print(
        f"sweep: {read:,} new comments read in {elapsed:.1f} s by one worker ({read / elapsed:,.0f} comments/s); "
        f"a second sweep read {again} (each once)"
    )
    arrival_rate = 1550 / 3
    print(
        f"  at the respondent benchmark's rate (~{arrival_rate:.0f} comments/s) one sweep worker is "
        f"{read / elapsed / arrival_rate:.2f}x the arrival rate"
    )
    from insight.models import CommentRollup, ThemeRollup

    def snapshot() -> set:
        fields = ("survey_id", "day", "segment", "comments", "negative", "neutral", "positive", "score_sum")
        themes = ("survey_id", "day", "segment", "theme_id", "mentions", "negative", "scored", "score_sq")
        return set(CommentRollup.objects.values_list(*fields)) | set(ThemeRollup.objects.values_list(*themes))

    refreshed = snapshot()
    started = time.perf_counter()
    rollups.rollups_rebuild()
    rebuilt = time.perf_counter() - started
    print(
        f"  rollups after the sweep's incremental refresh {'equal' if snapshot() == refreshed else 'DIFFER FROM'} "
        f"a full rebuild ({rebuilt:.1f} s)"
    )
    sweep_times = []
    for _ in range(3):
        batch = Response.objects.bulk_create(
            Response(survey=survey, version=version, language="vi") for _ in range(200)
        )
        Answer.objects.bulk_create([Answer(response=r, question=comment, text=rng.choice(texts)) for r in batch])
        sweep_times.append(timed(pipeline.comments_sweep))
    print(f"  200 new comments (a debounced request's share): read in {statistics.median(sweep_times):.2f} s median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
