"""What the satisfaction dashboard shows, read from the rollups (ISO 9001 9.1.2 monitoring, 9.1.3 analysis).

Selectors here read only small tables: the daily rollups (a few rows per survey, segment and day), the funnel
rollups, a page of comments, and the complaint tables of `feedback`. Periods, segments and tests are computed with
pandas and stats.py on those rows, so the page's cost does not grow with the number of responses.
"""

from __future__ import annotations

import calendar
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
from reports.complaints import complaint_charts, complaint_summary, complaint_trend
from reports.models import DailyRollup, InvitationRollup
from reports.rollup import local_range
from surveys.building import headline_question_ids
from surveys.models import Answer, Invitation, Response, Survey
from surveys.scoring import QuestionKind, SurveyKind, scale_ends

STATS = ("count", "promoters", "passives", "detractors", "top2", "total", "total_sq")
GRANULARITIES = {"week": "W-SUN", "month": "M", "quarter": "Q"}


def _shift_months(day: date, months: int, *, month_end: bool) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, last if month_end else min(day.day, last))


@dataclass(frozen=True)
class Filters:
    survey: Survey
    start: date
    end: date
    segment: str = ""
    granularity: str = "month"
    # The periods the control chart's limits come from (chosen by the quality manager); None: the default.
    baseline_start: date | None = None
    baseline_end: date | None = None

    @property
    def previous(self) -> tuple[date, date]:
        return previous_range(self.start, self.end, self.granularity)


def whole_months(start: date, end: date) -> bool:
    """The range runs from the first day of a month to the last day of a month."""
    return start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]


def previous_range(start: date, end: date, granularity: str = "month") -> tuple[date, date]:
    """The range just before this one, for "change since the previous period": as many calendar months (or
    quarters) back as the range spans at month (quarter) granularity — January–March 2026 is compared with
    October–December 2025, not with the 90 days before — and the same number of days for weeks. The dashboard and
    the management-review pack both read it, so one period has one "previous period" wherever it is shown."""
    if granularity in ("month", "quarter"):
        step = 1 if granularity == "month" else 3
        first = (start.year * 12 + start.month - 1) // step
        last = (end.year * 12 + end.month - 1) // step
        months = (last - first + 1) * step
        end_is_month_end = end.day == calendar.monthrange(end.year, end.month)[1]
        before_start = _shift_months(start, -months, month_end=False)
        before_end = _shift_months(end, -months, month_end=end_is_month_end)
        return before_start, min(before_end, start - timedelta(days=1))
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, whole months: the span a management review looks at."""
    today = today or timezone.localdate()
    first = (today.replace(day=1) - timedelta(days=330)).replace(day=1)
    return first, today


def measure_name(kind: str) -> str:
    return {
        SurveyKind.NPS: _("NPS"),
        # xgettext:no-python-format
        SurveyKind.CSAT: _("CSAT (% satisfied)"),
        SurveyKind.CES: _("CES (mean effort, 1 easy – 7 difficult)"),
    }[kind]


def decimals(kind: str) -> int:
    """Places a figure of this kind is shown with: means (CES, ratings) two, percentages and NPS one."""
    return 2 if kind in (SurveyKind.CES, QuestionKind.RATING) else 1


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
    """The figure of a question of this kind from summed rollup rows (NPS, CSAT's top-2 share, or a mean)."""
    n = int(sums.get("count", 0))
    if kind == SurveyKind.NPS:
        return stats.nps_estimate(int(sums.get("promoters", 0)), int(sums.get("detractors", 0)), n, min_n=min_n())
    if kind == SurveyKind.CSAT:
        return stats.share_estimate(int(sums.get("top2", 0)), n, min_n=min_n())
    return stats.mean_estimate(
        n, float(sums.get("total", 0)), float(sums.get("total_sq", 0)), min_n=min_n(), scale=scale_ends(kind)
    )


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


def rollup_frame(
    survey: Survey, start: date, end: date, segment: str = "", *, questions: list[int] | None = None
) -> pd.DataFrame:
    """Daily rollup rows of the survey's headline question (one per version: never pooled with its other
    questions of the same kind), per day and segment."""
    if questions is None:
        questions = headline_question_ids(survey)
    rows = DailyRollup.objects.filter(survey=survey, question_id__in=questions, day__gte=start, day__lte=end)
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
    funnel: dict[str, Any]
    response_rate: stats.Estimate
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    complaints: dict[str, Any] | None = None
    questions: list[dict[str, Any]] = field(default_factory=list)
    pchart: stats.PChart | None = None
    places: int = 1
    previous_range: tuple[date, date] | None = None
    headlines: list[int] = field(default_factory=list)  # the headline question of each version


def _periods(filters: Filters, in_range: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    """Every period of the range, empty ones included (a gap in the trend is information too); a period the range
    covers only in part is marked, so a half month is not read as a bad month."""
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
        first, last = period.start_time.date(), period.end_time.date()
        partial = first < filters.start or last > filters.end
        label = _label(period, filters.granularity)
        periods.append(
            {
                "label": f"{label}*" if partial else label,
                "start": first,
                "partial": partial,
                "sums": period_sums,
                "estimate": headline(kind, period_sums),
            }
        )
    return periods


def _baseline_labels(filters: Filters, periods: list[dict[str, Any]]) -> set[str] | None:
    if filters.baseline_start is None or filters.baseline_end is None:
        return None
    return {p["label"] for p in periods if filters.baseline_start <= p["start"] <= filters.baseline_end}


def _segments(kind: str, in_range: pd.DataFrame, sums: dict[str, int]) -> list[dict[str, Any]]:
    """Each segment against the rest. Many segments are many tests at once: their p-values are adjusted by
    Holm's method, so that with no real difference the chance of marking any segment stays at 5 %. Segments
    below the minimum n are listed but neither tested nor drawn."""
    if not len(in_range):
        return []
    rows = []
    by_segment = in_range.groupby("segment")[list(STATS)].sum()
    for name, row in by_segment.iterrows():
        seg = {s: int(row[s]) for s in STATS}
        rest = {s: sums[s] - seg[s] for s in STATS}
        estimate = headline(kind, seg)
        tested = estimate.enough and rest["count"] >= min_n()
        test = change(kind, rest, seg) if tested else stats.Change(None, None)
        rows.append({"name": name or _("(no segment)"), "estimate": estimate, "test": test})
    adjusted = stats.holm([r["test"].p_value for r in rows])
    for r, p in zip(rows, adjusted, strict=True):
        r["p_adjusted"] = p
        r["significant"] = p is not None and p < stats.ALPHA
        r["difference"] = r["test"].difference
    rows.sort(key=lambda r: (r["estimate"].value is None, -(r["estimate"].value or 0)))
    return rows


FUNNEL_STAGES = ("invited", "delivered", "opened", "answered", "failed", "skipped", "expired")


def funnel_figures(survey: Survey, start: date, end: date, questions: list[int]) -> dict[str, Any]:
    """The funnel per channel: emailed links (invited → sent → opened → answered), links handed out (made, so
    delivered → answered) and the public link or its QR code (answers only: nobody knows how many saw it).
    Answered never exceeds delivered in a channel, by how the funnel rollup counts (rollup._funnel)."""
    rows = (
        InvitationRollup.objects.filter(survey=survey, day__gte=start, day__lte=end)
        .values("channel")
        .annotate(**{k: Sum(k) for k in FUNNEL_STAGES})
        .order_by()
    )
    channels = {r["channel"]: {k: int(r[k] or 0) for k in FUNNEL_STAGES} for r in rows}
    empty = {k: 0 for k in FUNNEL_STAGES}
    email = channels.get(Invitation.Channel.EMAIL, empty)
    link = channels.get(Invitation.Channel.LINK, empty)
    public = (
        DailyRollup.objects.filter(
            survey=survey, question_id__in=questions, channel=Response.Channel.PUBLIC, day__gte=start, day__lte=end
        ).aggregate(n=Sum("count"))["n"]
        or 0
    )
    return {
        "email": email,
        "link": link,
        "public": int(public),
        "delivered": email["delivered"] + link["delivered"],
        "answered": email["answered"] + link["answered"],
    }


def dashboard_build(filters: Filters, *, target: float | None = None) -> Dashboard:
    survey, kind = filters.survey, filters.survey.kind
    questions = headline_question_ids(survey)
    before_start, before_end = filters.previous
    frame = rollup_frame(survey, before_start, filters.end, filters.segment, questions=questions)
    in_range = frame[frame["day"] >= pd.Timestamp(filters.start)]
    before = frame[(frame["day"] >= pd.Timestamp(before_start)) & (frame["day"] <= pd.Timestamp(before_end))]
    sums, before_sums = _sums(in_range), _sums(before)

    periods = _periods(filters, in_range, kind)
    chart = stats.p_chart(
        [(p["label"], p["sums"]["detractors"], p["sums"]["count"]) for p in periods],
        min_n=min_n(),
        baseline=_baseline_labels(filters, periods),
    )
    segment_rows = _segments(kind, in_range, sums) if not filters.segment else []
    funnel = funnel_figures(survey, filters.start, filters.end, questions)

    board = Dashboard(
        filters=filters,
        measure=measure_name(kind),
        total=headline(kind, sums),
        previous_total=headline(kind, before_sums),
        change=change(kind, before_sums, sums),
        detractor_share=stats.share_estimate(sums["detractors"], sums["count"], min_n=min_n()),
        periods=periods,
        special_causes=chart.special_causes,
        segments=segment_rows,
        funnel=funnel,
        response_rate=stats.share_estimate(funnel["answered"], funnel["delivered"], min_n=min_n()),
        pchart=chart,
        places=decimals(kind),
        previous_range=(before_start, before_end),
        headlines=questions,
    )
    labels = [p["label"] for p in periods]
    # A chart is drawn only when it has something to show: with no answer in the range (a survey just activated, a
    # period before it), empty axes running from -1 to 4 read as a broken page; the template says why instead.
    board.figures = {}
    if sums["count"]:
        board.figures["trend"] = charts.trend(
            labels, [p["estimate"] for p in periods], board.measure, target, places=board.places
        )
        board.figures["distribution"] = charts.distribution(
            category_names(kind), [sums["detractors"], sums["passives"], sums["promoters"]]
        )
    if chart.points:
        board.figures["pchart"] = charts.p_chart(chart)
    stages = _funnel_stages(funnel)
    if any(count for _label, count in stages):
        board.figures["funnel"] = charts.funnel(stages)
    drawn = [r for r in segment_rows if r["estimate"].enough]
    if drawn:
        board.figures["segments"] = charts.segments(
            [r["name"] for r in drawn],
            [r["estimate"] for r in drawn],
            [r["significant"] for r in drawn],
            board.measure,
            places=board.places,
        )
    board.questions = other_questions(filters, questions)
    board.complaints = complaint_figures(filters.start, filters.end, filters.granularity)
    if board.complaints and board.complaints["pareto"]:
        names, counts = zip(*board.complaints["pareto"], strict=True)
        board.figures["pareto"] = charts.pareto(list(names), list(counts))
    board.figures.update(complaint_charts(board.complaints["trend"], places=1))
    board.figures = {name: charts.as_json(figure) for name, figure in board.figures.items()}
    return board


def _funnel_stages(funnel: dict[str, Any]) -> list[tuple[str, int]]:
    email, link = funnel["email"], funnel["link"]
    return [
        (_("Email: invited"), email["invited"]),
        (_("Email: sent"), email["delivered"]),
        (_("Email: opened"), email["opened"]),
        (_("Email: answered"), email["answered"]),
        (_("Links handed out"), link["delivered"]),
        (_("Links handed out: answered"), link["answered"]),
        (_("Public link or QR code: answered"), funnel["public"]),
    ]


def other_questions(filters: Filters, headlines: list[int] | None = None) -> list[dict[str, Any]]:
    """The survey's other scored questions (ratings, a second NPS or CSAT question), each with the figure of its
    own kind and interval, from the rollups."""
    if headlines is None:
        headlines = headline_question_ids(filters.survey)
    rows = DailyRollup.objects.filter(survey=filters.survey, day__gte=filters.start, day__lte=filters.end).exclude(
        question_id__in=headlines
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
        kind = question.kind
        result.append(
            {
                "text": question.text(language),
                "kind": kind,
                "measure": measure_name(kind) if kind in SurveyKind.values else _("Mean"),
                "scale": f"{scale.low}–{scale.high}" if scale else "",
                "version": question.version.number,
                "estimate": headline(kind, {s: row[s] for s in STATS}),
                "places": decimals(kind),
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


def comments_page(
    filters: Filters,
    *,
    search: str = "",
    page: int | str = 1,
    per_page: int = 10,
    headlines: list[int] | None = None,
) -> CommentPage:
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
        comments = comments.filter(response__segment=filters.segment)
    if search:
        comments = comments.filter(text__icontains=search)
    offset = (number - 1) * per_page
    rows = list(comments[offset : offset + per_page + 1])
    page_obj = CommentPage(rows[:per_page], number, len(rows) > per_page)
    scores = dict(
        Answer.objects.filter(
            response_id__in=[c.response_id for c in page_obj],
            question_id__in=headline_question_ids(filters.survey) if headlines is None else headlines,
        ).values_list("response_id", "number")
    )
    for comment in page_obj:
        comment.score = scores.get(comment.response_id)
    return page_obj


def complaint_figures(start: date, end: date, granularity: str = "month") -> dict[str, Any]:
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
        "pareto": summary.pareto(_language(), other=_("Other")),
        "trend": complaint_trend(start, end, granularity, min_n=min_n(), other=_("Other")),
        "closed": summary.closed,
        "on_time": stats.share_estimate(summary.on_time, summary.due, min_n=1),
        "overdue_open": summary.overdue_open,
        "actions": [(label, actions.get(value, 0)) for value, label in ActionStatus.choices if actions.get(value)],
    }


def _language() -> str:
    return "en" if (get_language() or "")[:2] == "en" else "vi"
