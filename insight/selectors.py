"""Reads for pages: theme figures for a survey and period, a theme's comments, the comments that fit no theme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from insight.models import CommentInsight, CommentRollup, CommentTheme, Theme, ThemeRollup


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
    """(comments in the period, per active theme: mentions and its responses' score sums). Two aggregates over the
    daily rollups (insight/rollups.py): a few rows per day and theme, whatever the number of comments."""
    days = Q(survey_id=survey_id, day__gte=start, day__lte=end) & (Q(segment=segment) if segment else Q())
    total = CommentRollup.objects.filter(days).aggregate(n=Sum("comments"))["n"] or 0
    rows = (
        ThemeRollup.objects.filter(days)
        .values("theme_id")
        .annotate(n=Sum("mentions"), scored=Sum("scored"), total=Sum("score_sum"), total_sq=Sum("score_sq"))
        .order_by()
    )
    themes = Theme.objects.in_bulk([r["theme_id"] for r in rows])
    figures = [
        ThemeFigure(themes[r["theme_id"]], r["n"], r["scored"], float(r["total"] or 0), float(r["total_sq"] or 0))
        for r in rows
        if r["theme_id"] in themes and themes[r["theme_id"]].active and r["n"]
    ]
    figures.sort(key=lambda f: (-f.mentions, f.theme.pk))
    return total, figures


def theme_share_by_period(
    *, survey_id: int, theme: Theme, start: date, end: date, granularity: str = "M", segment: str = ""
) -> list[tuple[str, int, int]]:
    """(period label, comments mentioning the theme, comments) per month or ISO week: the p-chart's input, summed
    from the daily rollups (a few hundred rows for a year)."""
    days = Q(survey_id=survey_id, day__gte=start, day__lte=end) & (Q(segment=segment) if segment else Q())

    def period(day: date) -> date:
        return day - timedelta(days=day.weekday()) if granularity == "W" else day.replace(day=1)

    totals: dict[date, int] = {}
    for day, n in CommentRollup.objects.filter(days).values_list("day").annotate(n=Sum("comments")).order_by():
        totals[period(day)] = totals.get(period(day), 0) + n
    hits: dict[date, int] = {}
    mentions = ThemeRollup.objects.filter(days, theme=theme).values_list("day").annotate(n=Sum("mentions"))
    for day, n in mentions.order_by():
        hits[period(day)] = hits.get(period(day), 0) + n

    def label(day: date) -> str:
        if granularity == "W":
            year, week, _weekday = day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{day:%Y-%m}"

    return [(label(day), hits.get(day, 0), n) for day, n in sorted(totals.items()) if n]


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
