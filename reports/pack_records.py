"""The review's own records in the pack (meeting, 9.3.2 inputs b–f, analyses cited, 9.3.3 outputs, actions with
their status), labelled in the reader's language for the page and the PDF alike: both read this one view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reports.formatting import number
from reports.records import InputTopic, OutputKind


def _date(value: str | None) -> str:
    return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT") if value else ""


def _when(value: str | None) -> str:
    """A stored ISO instant in local time (never UTC)."""
    if not value:
        return ""
    return formats.date_format(timezone.localtime(datetime.fromisoformat(value)), "SHORT_DATETIME_FORMAT")


def estimate_text(e: dict[str, Any] | None, unit: str = "", places: int = 1) -> str:
    """A figure as the dashboard shows it: `places` decimals (two for a mean effort, CES), its interval and n, grouped
    by the reader's language (1.234,5 in vi, 1,234.5 in en)."""
    if not e or not e.get("enough") or e.get("value") is None:
        return _("not enough responses (n = %(n)s)") % {"n": number((e or {}).get("n", 0))}
    interval = f" ({number(e['low'], places)} – {number(e['high'], places)}{unit})" if e.get("low") is not None else ""
    return f"{number(e['value'], places)}{unit}{interval}, n = {number(e['n'])}"


def _status(a: dict[str, Any]) -> str:
    status = a.get("status") or ("done" if a.get("done") else "open")
    if status == "done":
        return _("done on %(date)s") % {"date": _date(a["done"])}
    return _("overdue") if status == "overdue" else _("open")


def analysis_lines(a: dict[str, Any], language: str) -> dict[str, Any]:
    from reports.dashboard import measure_name

    other = "en" if language == "vi" else "vi"
    f, figures = a["filters"], a["figures"]
    unit = "%" if figures.get("kind") == "csat" else ""
    places = 2 if figures.get("kind") == "ces" else 1
    return {
        "title": a["title"],
        "survey": a["survey"][language] or a["survey"][other],
        "range": f"{_date(f.get('start'))} – {_date(f.get('end'))}"
        + (f" · {f['segment']}" if f.get("segment") else ""),
        "measure": measure_name(figures.get("kind", "")),
        "total": estimate_text(figures.get("total"), unit, places),
        "previous": estimate_text(figures.get("previous"), unit, places),
        "response_rate": estimate_text(figures.get("response_rate"), "%"),
        "detractors": estimate_text(figures.get("detractor_share"), "%"),
        "conclusion": a["conclusion"],
        "by": a["by"],
        "at": _when(a["at"]),
    }


def records_view(review: Any, inputs: dict[str, Any], language: str) -> dict[str, Any]:
    from feedback.models import ActionStatus, EffectivenessReview

    other = "en" if language == "vi" else "vi"
    kinds = dict(OutputKind.choices)
    written = inputs.get("written", [])
    topics = [
        {
            "label": str(label),
            "items": [(w["text"], w["owner"], _date(w["on"])) for w in written if w["topic"] == code],
        }
        for code, label in InputTopic.choices
    ]
    statuses, results = dict(ActionStatus.choices), dict(EffectivenessReview.Result.choices)
    signed = None
    if review.locked and review.signed_by:
        signed = {
            "name": review.signed_by.get_full_name() or review.signed_by.get_username(),
            "when": formats.date_format(timezone.localtime(review.signed_at), "SHORT_DATETIME_FORMAT"),
        }
    return {
        "signed": signed,
        "meeting": inputs.get("meeting", {"chair": "", "attendees": ""}),
        "topics": topics,
        "measurement": [
            (
                m["survey"][language] or m["survey"][other],
                number(m["delivered"]),
                number(m["answered"]),
                estimate_text(m["rate"], "%"),
            )
            for m in inputs.get("measurement", [])
        ],
        "risks": [
            (
                r["reference"],
                r["title"],
                ", ".join(
                    ([str(_("risks and opportunities"))] if r["risks"] else [])
                    + ([str(_("QMS change"))] if r["qms_change"] else [])
                ),
                str(statuses.get(r["status"], r["status"])),
                str(results.get(r["effectiveness"], _("not reviewed yet"))),
            )
            for r in inputs.get("risks", [])
        ],
        "analyses": [analysis_lines(a, language) for a in inputs.get("analyses", [])],
        "outputs": [
            {
                "id": o.get("id"),
                "kind": str(kinds.get(o["kind"], o["kind"])),
                "description": o["description"],
                "action": "; ".join(
                    _("%(owner)s, due %(due)s") % {"owner": x["owner"], "due": _date(x["due"])} for x in o["actions"]
                ),
            }
            for o in inputs.get("outputs", [])
        ],
        "actions": [
            {
                **a,
                "id": a.get("id"),
                "due": _date(a["due"]),
                "status": _status(a),
                "kind_label": str(kinds.get(a.get("kind") or "", "")),
                "label": a["description"]
                + (f" ({_('from a previous review')})" if a["carried"] else "")
                + (f" [{kinds[a['kind']]}]" if a.get("kind") in kinds else ""),
            }
            for a in inputs["actions"]
        ],
    }


def records_story(kit: Any, view: dict[str, Any], part: str, story: list[Any]) -> None:
    """Append one part of the records to a PDF story: "meeting", "inputs" or "outputs"."""
    p, h2, h3, table = kit.p, kit.h2, kit.h3, kit.table
    if part == "meeting":
        m = view["meeting"]
        story.append(p(_("Chair: %(chair)s") % {"chair": m["chair"] or "—"}))
        story.append(p(_("Attendees: %(attendees)s") % {"attendees": m["attendees"] or "—"}))
        return
    if part == "outputs":
        story.append(p(_("Outputs of the review (ISO 9001 9.3.3)"), h2))
        if view["outputs"]:
            story.append(table([[_("Kind"), _("Output"), _("Action")]] +
                               [[o["kind"], o["description"], o["action"] or "—"] for o in view["outputs"]],
                               [45, 85, 40]))  # fmt: skip
        else:
            story.append(p(_("None.")))
        return
    story.append(p(_("Monitoring and measurement: response rates"), h2))
    if view["measurement"]:
        story.append(table([[_("Survey"), _("Delivered"), _("Answered"), _("Response rate")]] +
                           [list(r) for r in view["measurement"]], [70, 25, 25, 50]))  # fmt: skip
    else:
        story.append(p(_("No invitations were delivered in this period.")))
    story.append(p(_("Actions on risks and opportunities (from corrective actions)"), h2))
    if view["risks"]:
        story.append(table([[_("Reference"), _("Corrective action"), _("Flagged"), _("Status"), _("Effectiveness")]] +
                           [list(r) for r in view["risks"]], [22, 55, 35, 30, 28]))  # fmt: skip
    else:
        story.append(p(_("No corrective action flagged risks or a change to the QMS.")))
    story.append(p(_("Written inputs"), h2))
    for topic in view["topics"]:
        story.append(p(topic["label"], h3))
        if not topic["items"]:
            story.append(p(_("No input written.")))
        for text, owner, on in topic["items"]:
            story.append(p(f"{text} — {owner}, {on}"))
    story.append(p(_("Analyses cited (ISO 9001 9.1.3)"), h2))
    if not view["analyses"]:
        story.append(p(_("None.")))
    for a in view["analyses"]:
        story.append(p(f"{a['title']} — {a['survey']} ({a['range']})", h3))
        story.append(p(f"{a['measure']}: {a['total']} · {_('Previous period')}: {a['previous']} · "
                       f"{_('Response rate')}: {a['response_rate']}"))  # fmt: skip
        story.append(p(_("Conclusion: %(text)s") % {"text": a["conclusion"]}))
        story.append(p(f"{a['by']}, {a['at']}", kit.small))
