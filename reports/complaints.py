"""Complaint figures for a period (ISO 10002), shared by the dashboard, the objectives and the review pack."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Q

from reports.rollup import local_range
from surveys.scoring import SurveyKind, scale_ends


@dataclass(frozen=True)
class ComplaintSummary:
    received: int
    categories: list[tuple[str, str, int]]  # (Vietnamese name, English name, complaints received), most first
    closed: int  # closed in the period
    on_time: int  # of those, closed by their time limit
    accepted: int  # of those, the customer accepted the resolution
    # Open at the period's end (or now) and already past their closing limit: they have missed it as surely as a
    # late close, so the on-time share counts them (ISO 10002 asks how far the limits are met, not only by the closed).
    overdue_open: int = 0

    @property
    def due(self) -> int:
        """The cases the on-time share is taken over: closed in the period, plus open ones past their limit."""
        return self.closed + self.overdue_open

    def category_names(self, language: str) -> list[tuple[str, int]]:
        """(name, count) in the language, the other language's name standing in for a missing one ("" if none)."""
        return [((en if language == "en" else vi) or vi or en, n) for vi, en, n in self.categories]

    def pareto(self, language: str, other: str) -> list[tuple[str, int]]:
        """Categories largest first, and complaints without a category last as `other` ("Other"), whatever their
        number: they are no cause to act on, and leading the chart with them would hide the first real one."""
        named = [(name, n) for name, n in self.category_names(language) if name]
        unnamed = sum(n for name, n in self.category_names(language) if not name)
        return named + ([(other, unnamed)] if unnamed else [])


def complaint_summary(start: date, end: date) -> ComplaintSummary:
    from django.utils import timezone

    from feedback.models import CaseStatus, ComplaintCase
    from feedback.workflow import OPEN_STATUSES

    first, after = local_range(start, end)
    received = ComplaintCase.objects.filter(received_at__gte=first, received_at__lt=after)
    categories = [
        (row["category__name_vi"] or "", row["category__name_en"] or "", row["n"])
        for row in received.values("category__name_vi", "category__name_en").annotate(n=Count("id")).order_by("-n")
    ]
    closed = Q(status=CaseStatus.CLOSED, closed_at__gte=first, closed_at__lt=after)
    overdue_open = Q(
        Q(status__in=OPEN_STATUSES) | Q(status=CaseStatus.CLOSED, closed_at__gte=after),
        received_at__lt=after,
        close_due__lt=min(after, timezone.now()),
    )
    # One query for both sets (the dashboard's query count is pinned).
    totals = ComplaintCase.objects.filter(closed | overdue_open).aggregate(
        n=Count("id", filter=closed),
        on_time=Count("id", filter=closed & Q(closed_at__lte=F("close_due"))),
        accepted=Count("id", filter=closed & Q(customer_accepted=True)),
        overdue_open=Count("id", filter=overdue_open),
    )
    return ComplaintSummary(
        received=sum(n for _vi, _en, n in categories),
        categories=categories,
        closed=totals["n"],
        on_time=totals["on_time"],
        accepted=totals["accepted"],
        overdue_open=totals["overdue_open"],
    )


# --- Complaint rate and complaints by product, per period (ISO 10002 9.3: trends of complaints) ---
#
# The rate is complaints received per 1,000 survey responses of the same period. Responses, not customers: the
# customer table is a stock (everyone ever imported), while responses are a flow measured in the same periods as
# complaints, and rise and fall with the business a period brought; they are also the denominator an action's
# effectiveness uses (feedback/effectiveness.py). Responses are counted from the daily rollups of each survey's
# headline question, so raw responses are never read; the complaint-handling survey is left out, since only
# complainants answer it. A complaint is not one of the responses (it may come by phone), so the interval is the
# exact Poisson (Garwood) interval of the complaint count, scaled by 1,000 / responses.

PER = 1000
TOP_PRODUCTS = 5


@dataclass(frozen=True)
class Rate:
    label: str
    partial: bool
    complaints: int
    responses: int
    value: float | None  # per 1,000 responses; None without responses or below the minimum n
    low: float | None
    high: float | None
    enough: bool


@functools.lru_cache(maxsize=4096)
def poisson_interval(k: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) interval of a Poisson mean from one count: λ with P(X ≥ k) = α/2 and P(X ≤ k) = α/2,
    found by bisection on the chi-square tail (P(X ≤ k; λ) = Q(2λ; 2k + 2)). Worked example: k = 0 gives
    (0, 3.689); k = 10 gives (4.795, 18.39)."""
    from reports.stats import chi2_sf

    alpha = (1 - confidence) / 2

    def root(cdf_df: int, target: float) -> float:
        # chi2_sf(2λ, df) falls as λ grows: bisect for the λ where it crosses `target`.
        # The bounds lie within a few standard deviations (√k) of k; 50 halvings leave far less than 0.001.
        spread = 8 * math.sqrt(k + 1) + 10
        low, high = max(0.0, k - spread), k + spread
        for _step in range(50):
            middle = (low + high) / 2
            low, high = (middle, high) if chi2_sf(2 * middle, cdf_df) > target else (low, middle)
        return (low + high) / 2

    # P(X ≤ k − 1; λ) = Q(2λ; 2k) = 1 − α/2 gives the lower bound; P(X ≤ k; λ) = Q(2λ; 2k + 2) = α/2 the upper.
    return (0.0 if k == 0 else root(2 * k, 1 - alpha)), root(2 * k + 2, alpha)


def _period_bounds(start: date, end: date, granularity: str) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each week, month or quarter the range touches, labelled as the dashboard."""
    out = []
    if granularity == "week":
        first = start - timedelta(days=start.weekday())
        while first <= end:
            out.append((first.strftime("%d/%m/%Y"), first, first + timedelta(days=6)))
            first += timedelta(days=7)
        return out
    months = 3 if granularity == "quarter" else 1
    first = date(start.year, ((start.month - 1) // months) * months + 1, 1)
    while first <= end:
        month = first.month + months
        after = date(first.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        label = f"{first.year} Q{(first.month - 1) // 3 + 1}" if months == 3 else first.strftime("%m/%Y")
        out.append((label, first, after - timedelta(days=1)))
        first = after
    return out


def _responses_by_day(start: date, end: date) -> dict[date, int]:
    from django.db.models import Sum

    from feedback.models import ComplaintSettings
    from reports.models import DailyRollup
    from surveys.building import headline_of
    from surveys.models import Question

    # A subquery, not a query of its own: the dashboard's query count is pinned. (NOT IN over a NULL would drop
    # every row, hence the filter.)
    handling = ComplaintSettings.objects.filter(handling_survey__isnull=False).values("handling_survey_id")
    by_version: dict[int, list[Question]] = {}
    questions = Question.objects.filter(kind=F("version__survey__kind")).exclude(version__survey_id__in=handling)
    for q in questions.only("id", "version_id", "kind", "position", "headline"):
        by_version.setdefault(q.version_id, []).append(q)
    headlines = [h.pk for qs in by_version.values() if (h := headline_of(qs, qs[0].kind)) is not None]
    rows = (
        DailyRollup.objects.filter(question_id__in=headlines, day__gte=start, day__lte=end)
        .values("day")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {row["day"]: int(row["n"] or 0) for row in rows}


def complaint_trend(start: date, end: date, granularity: str, *, min_n: int, other: str) -> dict[str, Any]:
    """Per period: the complaint rate per 1,000 responses with its interval, and complaints of the most frequent
    products (the rest under `other`) with their Poisson intervals. Three queries, whatever the size."""
    from django.db.models.functions import TruncDate

    from feedback.models import ComplaintCase

    first, after = local_range(start, end)
    periods = _period_bounds(start, end, granularity)

    def period_of(day: date) -> int | None:
        for i, (_label, a, b) in enumerate(periods):
            if a <= day <= b:
                return i
        return None

    received = (
        ComplaintCase.objects.filter(received_at__gte=first, received_at__lt=after)
        .annotate(day=TruncDate("received_at"))
        .values("day", "product")
        .annotate(n=Count("id"))
        .order_by()
    )
    complaints = [0] * len(periods)
    by_product: dict[str, list[int]] = {}
    for row in received:
        i = period_of(row["day"])
        if i is None:
            continue
        complaints[i] += row["n"]
        product = (row["product"] or "").strip()
        by_product.setdefault(product, [0] * len(periods))[i] += row["n"]
    responses = [0] * len(periods)
    for day, n in _responses_by_day(start, end).items():
        i = period_of(day)
        if i is not None:
            responses[i] += n
    rates = []
    for (label, a, b), k, n in zip(periods, complaints, responses, strict=True):
        enough = n >= max(min_n, 1)
        low, high = poisson_interval(k)
        rates.append(
            Rate(
                label=label,
                partial=a < start or b > end,
                complaints=k,
                responses=n,
                value=PER * k / n if enough else None,
                low=PER * low / n if enough else None,
                high=PER * high / n if enough else None,
                enough=enough,
            )
        )
    # The most frequent named products each get a line; the others, and complaints without a product, are "Other",
    # drawn last.
    named = sorted((p for p in by_product if p), key=lambda p: (-sum(by_product[p]), p))
    lines = [(p, by_product[p]) for p in named[:TOP_PRODUCTS]]
    rest = [p for p in by_product if p not in dict(lines)]
    if rest:
        lines.append((other, [sum(by_product[p][i] for p in rest) for i in range(len(periods))]))
    products = [
        {"name": name, "counts": counts, "intervals": [poisson_interval(c) for c in counts]} for name, counts in lines
    ]
    return {
        "periods": rates,
        "products": products,
        "total_complaints": sum(complaints),
        "total_responses": sum(responses),
    }


# --- The complaint-handling survey's results (ISO 10002 9.3: satisfaction with the complaint-handling process) ---


# The handling survey is a CSAT survey (feedback/notify.handling_survey): its mean is on the 1–5 scale.
HANDLING_SCALE = scale_ends(SurveyKind.CSAT)


@dataclass(frozen=True)
class HandlingRow:
    name: str
    satisfied: Any  # stats.Estimate: the share of satisfied answers (CSAT top-2-box) with its Wilson interval
    mean: Any  # stats.Estimate: the mean score with its t interval


def handling_results(start: date, end: date, *, language: str, min_n: int, other: str) -> dict[str, Any]:
    """Answers to the handling survey of cases, given in the range, per case category and per handler (the case's
    assignee). Only answers to a survey sent for a case count (the case's handling invitation), and only each
    survey version's headline question. Below `min_n` answers a row says "not enough responses"."""
    from django.db.models import Sum

    from feedback.models import ComplaintCase
    from reports import stats
    from surveys.building import headline_of
    from surveys.models import Answer, Question

    first, after = local_range(start, end)
    invited = ComplaintCase.objects.filter(handling_invitation__isnull=False)
    surveys = set(invited.values_list("handling_invitation__survey_id", flat=True).distinct())
    by_version: dict[int, list[Question]] = {}
    for q in Question.objects.filter(version__survey_id__in=surveys, kind=F("version__survey__kind")).only(
        "id", "version_id", "kind", "position", "headline"
    ):
        by_version.setdefault(q.version_id, []).append(q)
    headlines = [h.pk for qs in by_version.values() if (h := headline_of(qs, qs[0].kind)) is not None]
    case = "response__invitation__handled_case__"
    rows = (
        Answer.objects.filter(
            question_id__in=headlines,
            number__isnull=False,
            response__invitation__handled_case__isnull=False,
            response__submitted_at__gte=first,
            response__submitted_at__lt=after,
        )
        .values(
            f"{case}category__name_vi",
            f"{case}category__name_en",
            f"{case}assignee__first_name",
            f"{case}assignee__last_name",
            f"{case}assignee__username",
        )
        .annotate(
            n=Count("id"),
            # The handling survey is CSAT (1–5): 4 and 5 are its satisfied answers, as in scoring.py.
            top2=Count("id", filter=Q(number__gte=4)),
            total=Sum("number"),
            total_sq=Sum(F("number") * F("number")),
        )
        .order_by()
    )
    groups: dict[str, dict[str, list[int]]] = {"category": {}, "handler": {}}
    for row in rows:
        vi, en = row[f"{case}category__name_vi"] or "", row[f"{case}category__name_en"] or ""
        category = ((en if language == "en" else vi) or vi or en) or other
        full = f"{row[f'{case}assignee__first_name'] or ''} {row[f'{case}assignee__last_name'] or ''}".strip()
        handler = full or row[f"{case}assignee__username"] or other
        for kind, key in (("category", category), ("handler", handler)):
            sums = groups[kind].setdefault(key, [0, 0, 0, 0])
            for i, value in enumerate((row["n"], row["top2"], row["total"] or 0, row["total_sq"] or 0)):
                sums[i] += value

    def table(kind: str) -> list[HandlingRow]:
        items = sorted(groups[kind].items(), key=lambda item: (item[0] == other, -item[1][0], item[0]))
        return [
            HandlingRow(
                name,
                stats.share_estimate(top2, n, min_n=min_n),
                stats.mean_estimate(n, float(total), float(total_sq), min_n=min_n, scale=HANDLING_SCALE),
            )
            for name, (n, top2, total, total_sq) in items
        ]

    total = [sum(v[i] for v in groups["category"].values()) for i in range(4)]
    return {
        "by_category": table("category"),
        "by_handler": table("handler"),
        "overall": HandlingRow(
            "",
            stats.share_estimate(total[1], total[0], min_n=min_n),
            stats.mean_estimate(total[0], float(total[2]), float(total[3]), min_n=min_n, scale=HANDLING_SCALE),
        ),
        "invited": invited.filter(
            handling_invitation__created_at__gte=first, handling_invitation__created_at__lt=after
        ).count(),
    }


def complaint_charts(trend: dict[str, Any], *, places: int = 1) -> dict[str, dict[str, Any]]:
    """Plotly figures of complaint_trend: the rate per 1,000 responses with its 95 % band, and complaints per
    product with error bars. Only periods with enough responses get a rate; a gap is drawn as a gap."""
    from django.utils.translation import gettext as _

    from reports.charts import MUTED, PRIMARY, _layout

    periods = trend["periods"]
    if not trend["total_complaints"]:
        return {}
    labels = [p.label for p in periods]
    measure = _("Complaints per 1,000 responses")
    rate = {
        "data": [
            {"type": "scatter", "x": labels, "y": [p.high for p in periods], "mode": "lines", "line": {"width": 0},
             "showlegend": False, "hoverinfo": "skip"},
            {"type": "scatter", "x": labels, "y": [p.low for p in periods], "mode": "lines", "line": {"width": 0},
             # xgettext:no-python-format
             "fill": "tonexty", "fillcolor": "rgba(11,79,108,0.15)", "name": _("95% interval"), "hoverinfo": "skip"},
            {"type": "scatter", "x": labels, "y": [p.value for p in periods], "mode": "lines+markers", "name": measure,
             "line": {"color": PRIMARY, "width": 2}, "connectgaps": False,
             "customdata": [[p.complaints, p.responses] for p in periods],
             "hovertemplate": f"%{{y:,.{places}f}} (%{{customdata[0]:,}} / %{{customdata[1]:,}})<extra></extra>"},
        ],
        "layout": _layout(measure),
    }  # fmt: skip
    palette = [PRIMARY, "#1e7b45", "#a15c00", "#6f42c1", "#b02a37", MUTED]
    products = {
        "data": [
            {"type": "scatter", "x": labels, "y": line["counts"], "mode": "lines+markers", "name": line["name"],
             "line": {"color": palette[i % len(palette)]},
             "error_y": {"type": "data", "symmetric": False,
                         "array": [high - c for c, (_low, high) in zip(line["counts"], line["intervals"], strict=True)],
                         "arrayminus": [c - low for c, (low, _high) in zip(line["counts"], line["intervals"],
                                                                             strict=True)],
                         "thickness": 1},
             "hovertemplate": "%{y:,}<extra>%{fullData.name}</extra>"}
            for i, line in enumerate(trend["products"])
        ],
        "layout": _layout(_("Complaints"), legend={"orientation": "h", "y": -0.25}),
    }  # fmt: skip
    return {"complaint_rate": rate, "complaint_products": products}
