"""What the satisfaction dashboard shows, read from the rollups (ISO 9001 9.1.2 monitoring, 9.1.3 analysis).

Selectors here read only small tables: the daily rollups (a few rows per survey, segment and day), the funnel
rollups, a page of comments, and the complaint tables of `feedback`. Periods, segments and tests are computed with
pandas and stats.py on those rows, so the page's cost does not grow with the number of responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from reports import charts, stats
from reports.complaints import complaint_summary
from reports.models import DailyRollup, InvitationRollup
from reports.rollup import local_range
from surveys.models import Answer, Survey
from surveys.scoring import SurveyKind

STATS = ("count", "promoters", "passives", "detractors", "top2", "total", "total_sq")
GRANULARITIES = {"week": "W-SUN", "month": "M", "quarter": "Q"}


@dataclass(frozen=True)
class Filters:
    survey: Survey
    start: date
    end: date
    segment: str = ""
    granularity: str = "month"

    @property
    def previous(self) -> tuple[date, date]:
        """The range of the same length just before this one, for "change since the previous period"."""
        length = (self.end - self.start).days + 1
        return self.start - timedelta(days=length), self.start - timedelta(days=1)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, whole months: the span a management review looks at."""
    today = today or timezone.localdate()
    first = (today.replace(day=1) - timedelta(days=330)).replace(day=1)
    return first, today


def measure_name(kind: str) -> str:
    return {
        SurveyKind.NPS: _("NPS"),
        SurveyKind.CSAT: _("CSAT (% satisfied)"),
        SurveyKind.CES: _("CES (mean effort, 1 easy – 7 difficult)"),
    }[kind]


def category_names(kind: str) -> list[str]:
    """The three answer groups of a scale, worst first."""
    if kind == SurveyKind.NPS:
        return [_("Detractors (0–6)"), _("Passives (7–8)"), _("Promoters (9–10)")]
    if kind == SurveyKind.CSAT:
        return [_("Dissatisfied (1–2)"), _("Neutral (3)"), _("Satisfied (4–5)")]
    return [_("High effort (6–7)"), _("Some effort (3–5)"), _("Low effort (1–2)")]


def min_n() -> int:
    return settings.REPORTS_MIN_N


def headline(kind: str, sums: dict[str, int]) -> stats.Estimate:
    """The survey's headline figure from summed rollup rows."""
    n = int(sums.get("count", 0))
    if kind == SurveyKind.NPS:
        return stats.nps_estimate(int(sums.get("promoters", 0)), int(sums.get("detractors", 0)), n, min_n=min_n())
    if kind == SurveyKind.CSAT:
        return stats.share_estimate(int(sums.get("top2", 0)), n, min_n=min_n())
    return stats.mean_estimate(n, float(sums.get("total", 0)), float(sums.get("total_sq", 0)), min_n=min_n())


def change(kind: str, before: dict[str, int], after: dict[str, int]) -> stats.Change:
    def get(sums: dict[str, int], key: str) -> int:
        return int(sums.get(key, 0))

    if kind == SurveyKind.NPS:
        return stats.nps_change(
            (get(before, "promoters"), get(before, "detractors"), get(before, "count")),
            (get(after, "promoters"), get(after, "detractors"), get(after, "count")),
        )
    if kind == SurveyKind.CSAT:
        return stats.share_change(
            (get(before, "top2"), get(before, "count")), (get(after, "top2"), get(after, "count"))
        )
    return stats.mean_change(
        (get(before, "count"), get(before, "total"), get(before, "total_sq")),
        (get(after, "count"), get(after, "total"), get(after, "total_sq")),
    )


def rollup_frame(survey: Survey, start: date, end: date, segment: str = "") -> pd.DataFrame:
    """Daily rollup rows of the survey's headline measure (summed over its versions' questions)."""
    rows = DailyRollup.objects.filter(survey=survey, kind=survey.kind, day__gte=start, day__lte=end)
    if segment:
        rows = rows.filter(segment=segment)
    records = list(rows.values("day", "segment").annotate(**{s: Sum(s) for s in STATS}).order_by())
    frame = pd.DataFrame.from_records(records, columns=["day", "segment", *STATS])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def _sums(frame: pd.DataFrame) -> dict[str, int]:
    return {s: int(frame[s].sum()) for s in STATS} if len(frame) else {s: 0 for s in STATS}


def _label(period: pd.Period, granularity: str) -> str:
    if granularity == "week":
        return period.start_time.strftime("%d/%m/%Y")
    if granularity == "quarter":
        return f"{period.year} Q{period.quarter}"
    return period.start_time.strftime("%m/%Y")


@dataclass
class Dashboard:
    filters: Filters
    measure: str
    total: stats.Estimate
    previous_total: stats.Estimate
    change: stats.Change
    detractor_share: stats.Estimate
    periods: list[dict[str, Any]]
    special_causes: list[stats.ChartPoint]
    segments: list[dict[str, Any]]
    funnel: dict[str, int]
    response_rate: stats.Estimate
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    complaints: dict[str, Any] | None = None
    questions: list[dict[str, Any]] = field(default_factory=list)


def dashboard_build(filters: Filters, *, target: float | None = None) -> Dashboard:
    survey, kind = filters.survey, filters.survey.kind
    before_start, before_end = filters.previous
    frame = rollup_frame(survey, before_start, filters.end, filters.segment)
    in_range = frame[frame["day"] >= pd.Timestamp(filters.start)]
    before = frame[frame["day"] < pd.Timestamp(filters.start)]
    sums, before_sums = _sums(in_range), _sums(before)

    # Periods over the whole range, empty ones included (a gap in the trend is information too).
    freq = GRANULARITIES[filters.granularity]
    index = pd.period_range(pd.Timestamp(filters.start), pd.Timestamp(filters.end), freq=freq)
    grouped = (
        in_range.assign(period=in_range["day"].dt.to_period(freq)).groupby("period")[list(STATS)].sum()
        if len(in_range)
        else pd.DataFrame(columns=list(STATS))
    )
    grouped = grouped.reindex(index, fill_value=0)
    periods = []
    for period, row in grouped.iterrows():
        period_sums = {s: int(row[s]) for s in STATS}
        periods.append(
            {"label": _label(period, filters.granularity), "sums": period_sums, "estimate": headline(kind, period_sums)}
        )
    chart_points = stats.p_chart([(p["label"], p["sums"]["detractors"], p["sums"]["count"]) for p in periods])

    segment_rows = []
    if len(in_range) and not filters.segment:
        by_segment = in_range.groupby("segment")[list(STATS)].sum()
        for name, row in by_segment.iterrows():
            seg = {s: int(row[s]) for s in STATS}
            rest = {s: sums[s] - seg[s] for s in STATS}
            test = change(kind, rest, seg)
            estimate = headline(kind, seg)
            segment_rows.append(
                {
                    "name": name or _("(no segment)"),
                    "estimate": estimate,
                    "significant": bool(test.significant and estimate.enough),
                    "difference": test.difference,
                }
            )
        segment_rows.sort(key=lambda r: (r["estimate"].value is None, -(r["estimate"].value or 0)))

    funnel_sums = InvitationRollup.objects.filter(
        survey=survey, day__gte=filters.start, day__lte=filters.end
    ).aggregate(**{k: Sum(k) for k in ("invited", "sent", "opened", "answered", "failed", "skipped", "expired")})
    funnel = {k: int(v or 0) for k, v in funnel_sums.items()}

    board = Dashboard(
        filters=filters,
        measure=measure_name(kind),
        total=headline(kind, sums),
        previous_total=headline(kind, before_sums),
        change=change(kind, before_sums, sums),
        detractor_share=stats.share_estimate(sums["detractors"], sums["count"], min_n=min_n()),
        periods=periods,
        special_causes=[p for p in chart_points if p.rules],
        segments=segment_rows,
        funnel=funnel,
        response_rate=stats.share_estimate(funnel["answered"], funnel["sent"], min_n=min_n()),
    )
    labels = [p["label"] for p in periods]
    board.figures = {
        "trend": charts.trend(labels, [p["estimate"] for p in periods], board.measure, target),
        "pchart": charts.p_chart(chart_points),
        "distribution": charts.distribution(
            category_names(kind), [sums["detractors"], sums["passives"], sums["promoters"]]
        ),
        "funnel": charts.funnel(
            [
                (_("Invited"), funnel["invited"]),
                (_("Sent"), funnel["sent"]),
                (_("Opened"), funnel["opened"]),
                (_("Answered"), funnel["answered"]),
            ]
        ),  # fmt: skip
    }
    if segment_rows:
        board.figures["segments"] = charts.segments(
            [r["name"] for r in segment_rows],
            [r["estimate"] for r in segment_rows],
            [r["significant"] for r in segment_rows],
            board.measure,
        )
    board.questions = other_questions(filters)
    board.complaints = complaint_figures(filters.start, filters.end)
    if board.complaints and board.complaints["pareto"]:
        names, counts = zip(*board.complaints["pareto"], strict=True)
        board.figures["pareto"] = charts.pareto(list(names), list(counts))
    board.figures = {name: charts.as_json(figure) for name, figure in board.figures.items()}
    return board


def other_questions(filters: Filters) -> list[dict[str, Any]]:
    """The survey's other scored questions (ratings, a second scale) as means with t intervals, from the rollups."""
    rows = DailyRollup.objects.filter(survey=filters.survey, day__gte=filters.start, day__lte=filters.end).exclude(
        kind=filters.survey.kind
    )
    if filters.segment:
        rows = rows.filter(segment=filters.segment)
    sums = list(rows.values("question").annotate(**{s: Sum(s) for s in STATS}).order_by())
    if not sums:
        return []
    from surveys.models import Question

    questions = Question.objects.select_related("version").in_bulk([row["question"] for row in sums])
    language = _language()
    result = []
    for row in sums:
        question = questions[row["question"]]
        scale = question.scale
        result.append(
            {
                "text": question.text(language),
                "scale": f"{scale.low}–{scale.high}" if scale else "",
                "version": question.version.number,
                "estimate": stats.mean_estimate(row["count"], row["total"], row["total_sq"], min_n=min_n()),
            }
        )
    return sorted(result, key=lambda r: (r["version"], r["text"]))


def segments_of(survey: Survey) -> list[str]:
    return list(
        DailyRollup.objects.filter(survey=survey).exclude(segment="").values_list("segment", flat=True).distinct()
    )


@dataclass
class CommentPage:
    """A page of comments without a total count: counting every comment of a year would make the dashboard's
    cost grow with the responses, which is what the rollups exist to avoid."""

    object_list: list[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.object_list)


def comments_page(filters: Filters, *, search: str = "", page: int | str = 1, per_page: int = 10) -> CommentPage:
    """The latest comments with the score given in the same response (a detail list: a page of raw rows)."""
    try:
        number = max(1, min(int(page), 1000))
    except (TypeError, ValueError):
        number = 1
    first, after = local_range(filters.start, filters.end)
    comments = (
        Answer.objects.filter(
            response__survey=filters.survey, response__submitted_at__gte=first, response__submitted_at__lt=after
        )
        .exclude(text="")
        .select_related("response")
        .order_by("-response__submitted_at", "-id")
    )
    if filters.segment:
        comments = comments.filter(response__customer__segment=filters.segment)
    if search:
        comments = comments.filter(text__icontains=search)
    offset = (number - 1) * per_page
    rows = list(comments[offset : offset + per_page + 1])
    page_obj = CommentPage(rows[:per_page], number, len(rows) > per_page)
    scores = dict(
        Answer.objects.filter(
            response_id__in=[c.response_id for c in page_obj], question__kind=filters.survey.kind
        ).values_list("response_id", "number")
    )
    for comment in page_obj:
        comment.score = scores.get(comment.response_id)
    return page_obj


def complaint_figures(start: date, end: date) -> dict[str, Any]:
    """Complaints received in the range by category (Pareto), time-limit compliance, corrective actions."""
    from feedback.models import ActionStatus, CorrectiveAction

    summary = complaint_summary(start, end)
    actions = dict(
        CorrectiveAction.objects.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=local_range(start, end)[0]))
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "received": summary.received,
        "pareto": [(name or _("(no category)"), n) for name, n in summary.category_names(_language())],
        "closed": summary.closed,
        "on_time": stats.share_estimate(summary.on_time, summary.due, min_n=1),
        "overdue_open": summary.overdue_open,
        "actions": [(label, actions.get(value, 0)) for value, label in ActionStatus.choices if actions.get(value)],
    }


def _language() -> str:
    return "en" if (get_language() or "")[:2] == "en" else "vi"
