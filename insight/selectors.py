"""Reads for pages: theme figures for a survey and period, a theme's comments, the comments that fit no theme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from insight.models import CommentInsight, CommentTheme, Theme


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


@dataclass
class ThemeFigure:
    theme: Theme
    mentions: int
    scored: int
    score_sum: float
    score_sq: float


def theme_figures(*, survey_id: int, start: date, end: date, segment: str = "") -> tuple[int, list[ThemeFigure]]:
    """(comments in the period, per active theme: mentions and its responses' score sums). Two aggregate queries."""
    since, until = _bounds(start, end)
    comments = CommentInsight.objects.filter(survey_id=survey_id, submitted_at__gte=since, submitted_at__lt=until)
    mentions = CommentTheme.objects.filter(survey_id=survey_id, submitted_at__gte=since, submitted_at__lt=until)
    if segment:
        comments = comments.filter(response__customer__segment=segment)
        mentions = mentions.filter(comment__response__customer__segment=segment)
    total = comments.count()
    rows = (
        mentions.values("theme_id")
        .annotate(
            n=Count("id"),
            scored=Count("score"),
            total=Sum("score"),
            total_sq=Sum(F("score") * F("score")),
        )
        .order_by()
    )
    themes = Theme.objects.in_bulk([r["theme_id"] for r in rows])
    figures = [
        ThemeFigure(themes[r["theme_id"]], r["n"], r["scored"], float(r["total"] or 0), float(r["total_sq"] or 0))
        for r in rows
        if r["theme_id"] in themes and themes[r["theme_id"]].active
    ]
    figures.sort(key=lambda f: -f.mentions)
    return total, figures


def theme_share_by_period(
    *, survey_id: int, theme: Theme, start: date, end: date, granularity: str = "M"
) -> list[tuple[str, int, int]]:
    """(period label, comments mentioning the theme, comments) per month or week: the p-chart's input. Grouped
    in the database (two small GROUP BYs), so the cost does not grow with the comments' number in Python."""
    since, until = _bounds(start, end)
    trunc = TruncWeek if granularity == "W" else TruncMonth
    tz = timezone.get_current_timezone()

    def per_period(rows: QuerySet) -> dict[date, int]:
        grouped = rows.annotate(period=trunc("submitted_at", tzinfo=tz)).values("period").annotate(n=Count("id"))
        return {_day(r["period"]): r["n"] for r in grouped.order_by()}

    totals = per_period(
        CommentInsight.objects.filter(survey_id=survey_id, submitted_at__gte=since, submitted_at__lt=until)
    )
    hits = per_period(
        CommentTheme.objects.filter(survey_id=survey_id, theme=theme, submitted_at__gte=since, submitted_at__lt=until)
    )

    def label(day: date) -> str:
        if granularity == "W":
            year, week, _weekday = day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{day:%Y-%m}"

    return [(label(day), hits.get(day, 0), n) for day, n in sorted(totals.items()) if n]


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def theme_comments(
    *, theme: Theme, survey_id: int | None = None, start: date | None = None, end: date | None = None
) -> QuerySet[CommentTheme]:
    rows = CommentTheme.objects.filter(theme=theme).select_related("comment__answer", "comment__survey")
    if survey_id:
        rows = rows.filter(survey_id=survey_id)
    if start and end:
        since, until = _bounds(start, end)
        rows = rows.filter(submitted_at__gte=since, submitted_at__lt=until)
    return rows.order_by("-submitted_at", "-id")


def page_of(rows: QuerySet, number: int | str, per_page: int = 20) -> Page:
    return Paginator(rows, per_page).get_page(number)


# A comment whose best theme is weaker than this "fits no theme" for the suggestions.
WEAK_FIT = 0.5


def unthemed_comments(limit: int) -> list[tuple[int, str]]:
    """The newest comments with no theme, or only weak guesses the staff never confirmed."""
    fits = CommentTheme.objects.filter(Q(confidence__gte=WEAK_FIT) | Q(source=CommentTheme.Source.STAFF))
    return list(
        CommentInsight.objects.exclude(pk__in=fits.values("comment_id"))
        .filter(corrected=False)
        .order_by("-submitted_at")
        .values_list("pk", "answer__text")[:limit]
    )


def response_themes(response_id: int) -> list[CommentTheme]:
    """The themes of one response's comments, most confident first (the case page shows them)."""
    return list(
        CommentTheme.objects.filter(comment__response_id=response_id)
        .select_related("theme", "comment")
        .order_by("-confidence")
    )
