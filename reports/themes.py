"""Comment themes on the dashboard, and the key-driver page's figures (ISO 9001 9.1.3).

Shares of comments use the Wilson interval, average scores the t interval, both from reports.stats; the theme's
trend is the same p-chart as the detractor share's (stats.p_chart), drawn with the theme's name. The figures are
sums of the daily rollups `insight.CommentRollup` and `insight.ThemeRollup` (kept by the insight worker, see
insight/rollups.py): a few small rows per day and theme, whatever the number of comments.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from insight import selectors
from insight.models import RollupState, Theme
from reports import charts, stats
from reports.charts import MUTED, PRIMARY, WARN
from reports.dashboard import Filters, min_n
from reports.drivers import DriverAnalysis
from surveys.scoring import scale_ends

MAX_THEMES = 12


# The theme figures change only when the worker writes: kept until the next comment is read or a theme changes.
BOARD_CACHE_SECONDS = 300


def theme_board(filters: Filters, *, language: str, chosen: str = "") -> dict[str, Any]:
    """Cached on what the figures depend on: the rollups' last refresh and the theme list's last change."""
    newest = (
        RollupState.objects.values_list("refreshed_at", flat=True).first(),
        tuple(Theme.objects.aggregate(at=Max("updated_at"), n=Count("id")).values()),
    )
    key = (
        "themes:"
        + hashlib.sha256(
            repr(
                (
                    filters.survey.pk,
                    filters.start,
                    filters.end,
                    filters.segment,
                    filters.granularity,
                    language,
                    chosen,
                    newest,
                )
            ).encode()  # fmt: skip
        ).hexdigest()
    )
    board = cache.get(key)
    if board is None:
        board = _theme_board(filters, language=language, chosen=chosen)
        cache.set(key, board, BOARD_CACHE_SECONDS)
    return board


def _theme_board(filters: Filters, *, language: str, chosen: str = "") -> dict[str, Any]:
    total, figures = selectors.theme_figures(
        survey_id=filters.survey.pk, start=filters.start, end=filters.end, segment=filters.segment
    )
    query = urlencode({"survey": filters.survey.pk, "start": filters.start, "end": filters.end})
    rows = [
        {
            "theme": f.theme,
            "name": f.theme.name(language),
            "share": stats.share_estimate(f.mentions, total, min_n=min_n()),
            "score": stats.mean_estimate(
                f.scored, f.score_sum, f.score_sq, min_n=min_n(), scale=scale_ends(filters.survey.kind)
            ),
            "mentions": f.mentions,
            "url": reverse("theme_comments", args=[f.theme.pk]) + "?" + query,
        }
        for f in figures[:MAX_THEMES]
    ]
    board: dict[str, Any] = {"comments": total, "rows": rows, "figures": {}}
    if not rows:
        return board
    theme = next((r["theme"] for r in rows if str(r["theme"].pk) == chosen), rows[0]["theme"])
    board["chart_theme"] = theme.name(language)
    board["chart_theme_id"] = theme.pk
    board["figures"]["theme-pchart"] = theme_p_chart(filters, theme, language)
    return board


def theme_p_chart(filters: Filters, theme: Theme, language: str) -> dict[str, Any]:
    periods = selectors.theme_share_by_period(
        survey_id=filters.survey.pk,
        theme=theme,
        start=filters.start,
        end=filters.end,
        granularity="W" if filters.granularity == "week" else "M",
        segment=filters.segment,
    )
    figure = charts.p_chart(stats.p_chart(periods))
    title = _("Comments about “%(theme)s” (%%)") % {"theme": theme.name(language)}
    for trace in figure["data"]:
        if trace.get("line", {}).get("color") == PRIMARY and trace.get("mode") == "lines+markers":
            trace["name"] = title
    figure["layout"]["yaxis"] = {**figure["layout"].get("yaxis", {}), "title": {"text": title}}
    return figure


def importance_performance(analysis: DriverAnalysis) -> dict[str, Any]:
    """Importance (share of R²) against performance (mean rating as % of its scale): fix first what is important
    and poorly rated (bottom right). The dotted lines are the medians."""
    drivers = [d for d in analysis.drivers or [] if d.kind == "attribute"]
    if not drivers:
        return {}
    xs = [d.importance for d in drivers]
    ys = [d.performance for d in drivers]
    mid_x = sorted(xs)[len(xs) // 2]
    mid_y = sorted(ys)[len(ys) // 2]
    data = [
        {"type": "scatter", "x": xs, "y": ys, "mode": "markers+text", "text": [d.name[:40] for d in drivers],
         "textposition": "top center", "name": _("Attributes"),
         "marker": {"size": 12, "color": [WARN if d.fix_first else PRIMARY for d in drivers]},
         "hovertemplate": "%{text}: %{x:.0f}% / %{y:.0f}%<extra></extra>"},
    ]  # fmt: skip
    layout = {
        "font": charts.FONT,
        "height": 360,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 48},
        # xgettext:no-python-format
        "xaxis": {"title": {"text": _("Importance (% of R²)")}, "rangemode": "tozero"},
        # xgettext:no-python-format
        "yaxis": {"title": {"text": _("Performance (% of the scale)")}, "range": [0, 100]},
        "shapes": [
            {"type": "line", "x0": mid_x, "x1": mid_x, "y0": 0, "y1": 100, "line": {"color": MUTED, "dash": "dot"}},
            {
                "type": "line",
                "x0": 0,
                "x1": max(xs) * 1.1,
                "y0": mid_y,
                "y1": mid_y,
                "line": {"color": MUTED, "dash": "dot"},
            },
        ],  # fmt: skip
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    return {"data": data, "layout": layout}
