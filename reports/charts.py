"""Plotly figures of the dashboards, built here and drawn in the browser by plotly.js from static/.

Figures are plain Plotly figure specs (data + layout) serialised with Plotly's JSON encoder: building them through
plotly.graph_objects validates every property and cost several milliseconds per figure, most of a dashboard's
time budget. Nothing here queries the database: the inputs are the small period and segment tables of
dashboard.py. Every label is translated by the caller's language.
"""

from __future__ import annotations

import html
import json
from typing import Any

from django.utils.translation import gettext as _
from plotly.utils import PlotlyJSONEncoder

from reports.formatting import number, plotly_separators
from reports.stats import Estimate, PChart

PRIMARY, DANGER, MUTED, GOOD, WARN = "#0b4f6c", "#b02a37", "#6c757d", "#1e7b45", "#a15c00"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 13}


def _layout(y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": FONT,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 48},
        "height": 320,
        "hovermode": "x unified",
        "yaxis": {"title": {"text": y_title}, "zeroline": False},
        "xaxis": {"type": "category"},
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        # Decimal mark and thousands separator of the page's language: 76,9 and 5.632 in Vietnamese.
        "separators": plotly_separators(),
    }
    layout.update(extra)
    return layout


# Keys whose strings are ours and meant as Plotly's markup (`<extra></extra>`, `%{y}`); every other string of a
# figure can carry a segment, category or survey name typed by someone.
_TEMPLATES = {"hovertemplate", "texttemplate"}


def plain_text(value: Any, key: str = "") -> Any:
    """Every string of a figure as plain text. plotly.js reads labels, hover text, titles and annotations as a
    small HTML dialect: a segment named `<a href="https://evil.example/">` would be a working link in the chart.
    Escaped as entities it is drawn exactly as typed (plotly.js turns entities back into characters)."""
    if isinstance(value, str):
        return value if key in _TEMPLATES else html.escape(value, quote=False)
    if isinstance(value, dict):
        return {k: plain_text(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_text(v, key) for v in value]
    return value


def as_json(figure: dict[str, Any]) -> dict[str, Any]:
    """The figure as JSON-safe data (dates, numpy numbers), every text escaped (plain_text), for json_script."""
    return plain_text(json.loads(json.dumps(figure, cls=PlotlyJSONEncoder)))


def trend(
    labels: list[str], estimates: list[Estimate], measure: str, target: float | None, *, places: int = 1
) -> dict[str, Any]:
    """The headline figure per period with its 95 % interval as a band, and the objective's target line."""
    shown = [e if e.enough else None for e in estimates]
    values = [e.value if e else None for e in shown]
    low = [e.low if e else None for e in shown]
    high = [e.high if e else None for e in shown]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "x": labels, "y": high, "mode": "lines", "line": {"width": 0}, "showlegend": False,
         "hoverinfo": "skip"},
        {"type": "scatter", "x": labels, "y": low, "mode": "lines", "line": {"width": 0}, "fill": "tonexty",
         # xgettext:no-python-format
         "fillcolor": "rgba(11,79,108,0.15)", "name": _("95% interval"), "hoverinfo": "skip"},
        {"type": "scatter", "x": labels, "y": values, "mode": "lines+markers", "name": measure,
         "line": {"color": PRIMARY, "width": 2}, "connectgaps": False,
         "customdata": [e.n for e in estimates],
         "hovertemplate": f"%{{y:,.{places}f}} (n = %{{customdata:,}})<extra></extra>"},
    ]  # fmt: skip
    if target is not None:
        data.append(
            {"type": "scatter", "x": labels, "y": [target] * len(labels), "mode": "lines", "name": _("Target"),
             "line": {"color": WARN, "dash": "dash"}, "hovertemplate": "%{y}<extra></extra>"}
        )  # fmt: skip
    return {"data": data, "layout": _layout(measure)}


def p_chart(chart: PChart) -> dict[str, Any]:
    """The detractor share per period with its centre line, per-period control limits (Laney's p′ when the data
    are overdispersed) and flagged points; the periods that set the limits are drawn filled, the others open."""
    points = chart.points
    labels = [p.label for p in points]
    flagged = [p for p in points if p.rules]
    limits = _("Control limits (Laney p′)") if chart.laney else _("Control limits")
    data: list[dict[str, Any]] = [
        {"type": "scatter", "x": labels, "y": [p.upper for p in points], "mode": "lines", "name": limits,
         "line": {"color": MUTED, "dash": "dot", "shape": "hvh"}, "legendgroup": "limits"},
        {"type": "scatter", "x": labels, "y": [p.lower for p in points], "mode": "lines", "showlegend": False,
         "line": {"color": MUTED, "dash": "dot", "shape": "hvh"}, "legendgroup": "limits"},
        {"type": "scatter", "x": labels, "y": [p.centre for p in points], "mode": "lines", "name": _("Centre line"),
         "line": {"color": MUTED}},
        {"type": "scatter", "x": labels, "y": [p.share for p in points], "mode": "lines+markers",
         "name": _("Detractor share (%)"), "line": {"color": PRIMARY},
         "marker": {"symbol": ["circle" if p.baseline else "circle-open" for p in points], "size": 8},
         "customdata": [p.n for p in points],
         "hovertemplate": "%{y:.1f}% (n = %{customdata:,})<extra></extra>"},
    ]  # fmt: skip
    if flagged:
        data.append(
            {"type": "scatter", "x": [p.label for p in flagged], "y": [p.share for p in flagged], "mode": "markers",
             "name": _("Special cause"), "marker": {"color": DANGER, "size": 12, "symbol": "diamond"},
             "hoverinfo": "skip"}
        )  # fmt: skip
    return {"data": data, "layout": _layout(_("Detractor share (%)"), yaxis={"rangemode": "tozero"})}


def distribution(labels: list[str], counts: list[int]) -> dict[str, Any]:
    total = sum(counts) or 1
    colours = [DANGER, MUTED, GOOD][: len(labels)]
    return {
        "data": [
            {"type": "bar", "x": labels, "y": [100 * c / total for c in counts], "marker": {"color": colours},
             "customdata": counts, "hovertemplate": "%{y:.1f}% (%{customdata})<extra></extra>"}
        ],
        "layout": _layout(_("Share of answers (%)"), hovermode="closest"),
    }  # fmt: skip


def segments(
    names: list[str], estimates: list[Estimate], significant: list[bool], measure: str, *, places: int = 1
) -> dict[str, Any]:
    """The headline figure per segment with its interval; a segment that differs from the rest is marked."""
    values = [e.value for e in estimates]
    marked = [f"{n} *" if s else n for n, s in zip(names, significant, strict=True)]
    return {
        "data": [
            {"type": "bar", "orientation": "h", "y": marked,
             "x": values, "marker": {"color": [DANGER if s else PRIMARY for s in significant]},
             "error_x": {"type": "data", "symmetric": False,
                         "array": [(e.high - e.value) if e.high is not None else 0 for e in estimates],
                         "arrayminus": [(e.value - e.low) if e.low is not None else 0 for e in estimates]},
             "customdata": [e.n for e in estimates],
             "hovertemplate": f"%{{x:,.{places}f}} (n = %{{customdata:,}})<extra></extra>"}
        ],
        "layout": _layout("", hovermode="closest", xaxis={"type": "linear", "title": {"text": measure}},
                          yaxis={"type": "category", "automargin": True},
                          height=max(200, 48 * len(names) + 80)),
    }  # fmt: skip


def funnel(stages: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "data": [
            {"type": "bar", "orientation": "h", "y": [s for s, _n in stages], "x": [n for _s, n in stages],
             "marker": {"color": PRIMARY}, "text": [number(n) for _s, n in stages], "textposition": "auto",
             "hovertemplate": "%{x:,}<extra></extra>"}
        ],
        "layout": _layout("", hovermode="closest", height=240, xaxis={"type": "linear", "rangemode": "tozero"},
                          yaxis={"type": "category", "autorange": "reversed", "automargin": True}),
    }  # fmt: skip


def pareto(categories: list[str], counts: list[int]) -> dict[str, Any]:
    """Complaints per category, largest first, with the cumulative share (ISO 10002's analysis of complaints)."""
    total = sum(counts) or 1
    running, cumulative = 0, []
    for c in counts:
        running += c
        cumulative.append(100 * running / total)
    return {
        "data": [
            {"type": "bar", "x": categories, "y": counts, "name": _("Complaints"), "marker": {"color": PRIMARY}},
            {"type": "scatter", "x": categories, "y": cumulative, "name": _("Cumulative share (%)"), "yaxis": "y2",
             "mode": "lines+markers", "line": {"color": WARN}},
        ],
        # Category names are long (Vietnamese ones most): slanted ticks with room below, and the legend above the
        # plot, where the ticks cannot run into it.
        "layout": _layout(_("Complaints"), hovermode="closest", height=360,
                          margin={"l": 56, "r": 56, "t": 40, "b": 16},
                          legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
                          xaxis={"type": "category", "tickangle": -30, "automargin": True},
                          yaxis2={"overlaying": "y", "side": "right", "range": [0, 105], "showgrid": False,
                                  "title": {"text": _("Cumulative share (%)")}}),
    }  # fmt: skip
