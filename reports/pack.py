"""The management-review pack as people read it: labelled, localised lines from review.review_inputs, for the
printable page and for the PDF.

The PDF is made with ReportLab (a pure-Python wheel) and the DejaVu Sans font shipped in reports/fonts (its
glyphs cover Vietnamese), charts drawn with ReportLab's own graphics: nothing outside pip is needed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from reports.dashboard import decimals, measure_name, whole_months
from reports.formatting import number, p_value
from reports.models import ManagementReview, Metric
from reports.pack_records import estimate_text, records_view


def _objective_status(o: dict[str, Any]) -> str:
    """The verdict of an objective's row; packs signed before verdicts existed keep their own words."""
    verdict = o.get("verdict")
    if verdict is not None:
        return {
            "met": _("met"),
            "not_met": _("not met"),
            "unclear": _("not yet clear"),
        }.get(verdict, _("not enough data"))
    if o["met"] is None:
        return _("not enough data")
    if o["met"]:
        return _("met beyond doubt") if o["beyond_doubt"] else _("met")
    return _("not met")


def _date(value: str | None) -> str:
    return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT") if value else ""


def _previous_period(inputs: dict[str, Any]) -> str:
    """The sentence naming the range every "Previous period" column of the pack compares with."""
    if not inputs.get("previous_period"):
        return ""
    first, last = inputs["previous_period"]
    period = f"{_date(first)} – {_date(last)}"
    if whole_months(date.fromisoformat(inputs["period"][0]), date.fromisoformat(inputs["period"][1])):
        return _("Previous period: %(range)s (the same calendar months before).") % {"range": period}
    return _("Previous period: %(range)s (as many days just before).") % {"range": period}


def _month(key: str) -> str:
    """A month as the dashboard writes it (01/2026), from the pack's sort key (2026-01)."""
    year, _sep, month = key.partition("-")
    return f"{month}/{year}" if month else key


def pack_view(review: ManagementReview, inputs: dict[str, Any], language: str) -> dict[str, Any]:
    """Every line of the pack, labelled and formatted in the current language."""
    from feedback.models import ActionStatus, EffectivenessReview

    other = "en" if language == "vi" else "vi"
    satisfaction = []
    for row in inputs["satisfaction"]:
        unit = "%" if row["kind"] == "csat" else ""
        places = decimals(row["kind"])
        change = row["change"]
        if change["difference"] is None or not row["before"]["enough"]:
            change_text = _("no comparable previous period")
        elif not row["now"]["enough"]:
            # As on the dashboard: no change (and no "significant") beside a figure too small to show.
            change_text = _("not enough responses (n = %(n)s)") % {"n": number(row["now"]["n"])}
        else:
            verdict = _("significant") if change["significant"] else _("not significant")
            sign = "+" if change["difference"] > 0 else ""
            change_text = f"{sign}{number(change['difference'], places)} ({verdict}, {p_value(change['p_value'])})"
        satisfaction.append(
            {
                "survey": row["survey"][language] or row["survey"][other],
                "measure": measure_name(row["kind"]),
                "now": estimate_text(row["now"], unit, places),
                "before": estimate_text(row["before"], unit, places),
                "change": change_text,
                "detractors": estimate_text(row["detractor_share"], "%"),
                "trend": [(_month(t["month"]), t["value"] if t["enough"] else None, t["n"]) for t in row["trend"]],
                "places": places,
            }
        )
    themes = []
    for row in inputs.get("themes", []):  # reviews signed before themes existed have none
        change = row["change"]
        if change["difference"] is None or change["p_value"] is None or not row["before"]["enough"]:
            change_text = _("no comparable previous period")
        elif not row["now"]["enough"]:
            # As for the satisfaction figures: no change (and no "significant") beside a share too small to show.
            change_text = _("not enough responses (n = %(n)s)") % {"n": number(row["now"]["n"])}
        else:
            verdict = _("significant") if change["significant"] else _("not significant")
            sign = "+" if change["difference"] > 0 else ""
            change_text = f"{sign}{number(change['difference'], 1)} ({verdict}, {p_value(change['p_value'])})"
        themes.append(
            {
                "theme": row[language] or row[other],
                "now": estimate_text(row["now"], "%"),
                "before": estimate_text(row["before"], "%"),
                "change": change_text,
            }
        )
    complaints = inputs["complaints"]
    metric_labels = dict(Metric.choices)
    objectives = [
        {
            "title": o["title"],
            "measure": str(metric_labels.get(o["metric"], o["metric"])),
            "target": f"{'≤' if o['lower_is_better'] else '≥'} {number(o['target'], 1)}",
            "value": estimate_text(o["estimate"], places=2 if o["metric"] == Metric.CES else 1),
            "status": _objective_status(o),
            "due": _date(o["due"]),
            "resources": o.get("resources", ""),
        }
        for o in inputs["objectives"]
    ]
    statuses = dict(ActionStatus.choices)
    results = dict(EffectivenessReview.Result.choices)
    corrective = inputs["corrective_actions"]
    return {
        "period": f"{_date(inputs['period'][0])} – {_date(inputs['period'][1])}",
        # Packs signed before the range was kept have none: their line is left out rather than guessed.
        "previous_period": _previous_period(inputs),
        "satisfaction": satisfaction,
        "complaints": {
            "received": number(complaints["received"]),
            "closed": number(complaints["closed"]),
            "on_time": estimate_text(complaints["on_time"], "%")
            if complaints["closed"] or complaints.get("overdue_open")
            else "—",
            "accepted": number(complaints["accepted"]),
            "categories": [
                (c[language] or c[other] or _("(no category)"), number(c["n"])) for c in complaints["categories"]
            ],
        },
        "objectives": objectives,
        "themes": themes,
        "corrective": {
            "opened": number(corrective["opened"]),
            "open": [(str(statuses.get(code, code)), number(n)) for code, n in corrective["open_by_status"].items()],
            "reviews": [
                (r["reference"], r["title"], str(results.get(r["result"], r["result"])), _date(r["on"]))
                for r in corrective["reviews"]
            ],
        },
        **records_view(review, inputs, language),
    }


def pack_pdf(review: ManagementReview, view: dict[str, Any]) -> bytes:
    """The pack as a PDF (A4), with a trend chart per survey."""
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, Group, String
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus.flowables import KeepTogether

    from reports.pack_records import records_story
    from reports.pdf import Kit

    kit = Kit()
    h1, h2, p, table = kit.h1, kit.h2, kit.p, kit.table

    def trend_chart(points: list[tuple[str, float | None, int]], measure: str) -> Any:
        values = [(i, v) for i, (_m, v, _n) in enumerate(points) if v is not None]
        if len(values) < 2:
            # A sentence, not an empty chart frame that reads as a chart that failed to draw.
            return p(_("Too few months with enough responses for a trend."))
        drawing = Drawing(170 * mm, 52 * mm)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 42, 30, 150 * mm, 32 * mm
        # Axis titles: what is measured (by month), so a printed chart reads without the page around it.
        y_title = Group(String(0, 0, measure, fontName="DejaVu", fontSize=7, textAnchor="middle"))
        y_title.transform = (0, 1, -1, 0, 8, plot.y + plot.height / 2)  # turned a quarter, beside the y axis
        drawing.add(y_title)
        drawing.add(String(plot.x + plot.width / 2, 4, _("Month"), fontName="DejaVu", fontSize=7, textAnchor="middle"))
        plot.data = [values]
        plot.lines[0].strokeColor = colors.HexColor("#0b4f6c")
        plot.lines[0].strokeWidth = 1.5
        plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, max(len(points) - 1, 1)
        plot.xValueAxis.valueSteps = list(range(len(points)))
        plot.xValueAxis.labelTextFormat = lambda i: points[int(i)][0] if 0 <= int(i) < len(points) else ""
        for axis in (plot.xValueAxis, plot.yValueAxis):
            axis.labels.fontName, axis.labels.fontSize = "DejaVu", 7
        drawing.add(plot)
        return drawing

    story: list[Any] = [p(review.title, h1), p(_("Management review") + " · " + view["period"])]
    if view["signed"]:
        story.append(p(_("Signed off by %(name)s on %(when)s.") % view["signed"]))
    else:
        story.append(p(_("Draft: the figures are live until the review is signed off.")))
    records_story(kit, view, "meeting", story)

    story.append(p(_("Actions from previous reviews and this one"), h2))
    if view["actions"]:
        story.append(table([[_("Action"), _("Owner"), _("Due by"), _("Status")]] +
                           [[a["label"], a["owner"], a["due"], a["status"]] for a in view["actions"]],
                           [90, 35, 22, 22]))  # fmt: skip
    else:
        story.append(p(_("None.")))

    story.append(p(_("Customer satisfaction and its trend"), h2))
    if not view["satisfaction"]:
        story.append(p(_("No survey answers in this period.")))
    else:
        if view["previous_period"]:
            story.append(p(view["previous_period"]))
        # The one meaning of "detractors" in every page and pack (surveys.scoring.DETRACTOR_BANDS), said once.
        story.append(p(_("Detractors: NPS 0–6, CSAT 1–2, CES 6–7 (the standard bands, whatever a survey's "
                         "closed-loop thresholds).")))  # fmt: skip
    for row in view["satisfaction"]:
        block = [
            p(f"{row['survey']} — {row['measure']}", kit.h3),
            table(
                [
                    [_("This period"), _("Previous period"), _("Change"), _("Detractors")],
                    [row["now"], row["before"], row["change"], row["detractors"]],
                ],
                [45, 45, 40, 40],
            ),  # fmt: skip
            trend_chart(row["trend"], str(row["measure"])),
        ]
        story.append(KeepTogether(block))

    c = view["complaints"]
    story.append(p(_("Complaints (ISO 10002)"), h2))
    story.append(p(_("Received: %(received)s · closed: %(closed)s · closed within the time limit: %(on_time)s · "
                     "resolution accepted by the customer: %(accepted)s") % c))  # fmt: skip
    if c["categories"]:
        story.append(table([[_("Category"), _("Complaints")]] + [list(x) for x in c["categories"]], [120, 30]))

    if view.get("themes"):
        story.append(p(_("What customers wrote about: top themes"), h2))
        story.append(table([[_("Theme"), _("Share of comments"), _("Previous period"), _("Change (points)")]] +
                           [[t["theme"], t["now"], t["before"], t["change"]] for t in view["themes"]],
                           [40, 45, 45, 40]))  # fmt: skip

    story.append(p(_("Quality objectives"), h2))
    if view["objectives"]:
        story.append(table([[_("Objective"), _("Target"), _("Result"), _("Status")]] +
                           [[f"{o['title']} ({o['measure']})" + (f"\n{_('Resources needed')}: {o['resources']}"
                              if o["resources"] else ""), o["target"], o["value"], o["status"]]
                            for o in view["objectives"]], [60, 22, 60, 28]))  # fmt: skip
    else:
        story.append(p(_("No quality objective is set.")))

    k = view["corrective"]
    story.append(p(_("Nonconformities and corrective actions"), h2))
    story.append(p(_("Raised in the period: %(opened)s.") % {"opened": k["opened"]}))
    if k["open"]:
        story.append(table([[_("Open, by step"), _("Number")]] + [list(x) for x in k["open"]], [120, 30]))
    if k["reviews"]:
        story.append(table([[_("Reference"), _("Corrective action"), _("Effectiveness"), _("Reviewed on")]] +
                           [list(r) for r in k["reviews"]], [28, 80, 35, 27]))  # fmt: skip

    records_story(kit, view, "inputs", story)
    story.append(p(_("Decisions and actions (outputs of the review)"), h2))
    story.append(p(review.decisions or "—"))
    records_story(kit, view, "outputs", story)
    return kit.build(story, title=review.title)
