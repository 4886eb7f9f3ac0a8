"""The structured record each root-cause method brings (ISO 9001 10.2.1 b 2: determine the causes).

A method is more than a label: the five whys are a chain of why → because, a fishbone sorts causes into its six
categories, an 8D report walks its disciplines D0–D8. What a form posts is cleaned here into one plain dict, stored
on the action (`root_cause_analysis`) and read back by the page and the 8D report. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from feedback.models import RootCauseMethod

# Three links at least: one "why" is a guess, not a chain; five is the method's name and its usual depth.
MIN_WHYS, MAX_WHYS = 3, 5
LINK_MAX = 500
CAUSE_MAX, CAUSES_PER_CATEGORY = 300, 10
DISCIPLINE_MAX = 5000

FISHBONE = (
    ("people", gettext_lazy("People")),
    # Its own context: "Method" here is the way the work is done, not the analysis method chosen above it.
    ("method", pgettext_lazy("fishbone category", "Method")),
    ("machine", gettext_lazy("Machine")),
    ("material", gettext_lazy("Material")),
    ("measurement", gettext_lazy("Measurement")),
    ("environment", gettext_lazy("Environment")),
)

# D3 (containment) and D4 (root cause) are the action's own steps; the others are written on the 8D form.
DISCIPLINES = (
    ("d0", gettext_lazy("D0 Plan: symptoms and emergency response")),
    ("d1", gettext_lazy("D1 Team")),
    ("d2", gettext_lazy("D2 Problem description (what, where, when, how many)")),
    ("d3", gettext_lazy("D3 Interim containment")),
    ("d4", gettext_lazy("D4 Root cause and escape point")),
    ("d5", gettext_lazy("D5 Permanent corrective actions chosen")),
    ("d6", gettext_lazy("D6 Implementation and validation")),
    ("d7", gettext_lazy("D7 Prevent recurrence")),
    ("d8", gettext_lazy("D8 Closure and team recognition")),
)
WRITTEN_DISCIPLINES = ("d0", "d1", "d2", "d5", "d6", "d7", "d8")
REQUIRED_DISCIPLINES = ("d1", "d2")  # an 8D starts with a team and a described problem


def _text(value: Any) -> str:
    return str(value or "").strip()


def _one_line(value: str, limit: int, message: str) -> str:
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise ValidationError(message)
    return value


def _whys(data: Mapping[str, Any]) -> dict[str, Any]:
    links = []
    rows = list(data.get("whys") or [])[: MAX_WHYS + 1]
    if len(rows) > MAX_WHYS:
        raise ValidationError(_("The five whys hold at most %(n)s links.") % {"n": MAX_WHYS})
    for row in rows:
        why, because = _text(row.get("why")), _text(row.get("because"))
        if not why and not because:
            continue
        if not why or not because:
            raise ValidationError(_("Each link of the five whys needs both its “why” and its “because”."))
        message = _("A link of the five whys is one line of at most %(n)s characters.") % {"n": LINK_MAX}
        links.append({"why": _one_line(why, LINK_MAX, message), "because": _one_line(because, LINK_MAX, message)})
    if len(links) < MIN_WHYS:
        raise ValidationError(
            _("Follow the chain of whys at least %(n)s links deep (why → because).") % {"n": MIN_WHYS}
        )
    return {"whys": links}


def _fishbone(data: Mapping[str, Any]) -> dict[str, Any]:
    given = data.get("causes") or {}
    causes: dict[str, list[str]] = {}
    message = _("A cause is one line of at most %(n)s characters.") % {"n": CAUSE_MAX}
    for key, _label in FISHBONE:
        lines = [_text(line) for line in given.get(key, [])]
        lines = [_one_line(line, CAUSE_MAX, message) for line in lines if line]
        if len(lines) > CAUSES_PER_CATEGORY:
            raise ValidationError(_("At most %(n)s causes per category.") % {"n": CAUSES_PER_CATEGORY})
        causes[key] = lines
    if not any(causes.values()):
        raise ValidationError(
            _("Name at least one cause in a fishbone category (people, method, machine, material, measurement, "
              "environment).")
        )  # fmt: skip
    return {"causes": causes}


def _eight_d(data: Mapping[str, Any]) -> dict[str, Any]:
    disciplines = {key: _text(data.get(key)) for key in WRITTEN_DISCIPLINES}
    labels = dict(DISCIPLINES)
    for key in REQUIRED_DISCIPLINES:
        if not disciplines[key]:
            raise ValidationError(_("An 8D needs “%(field)s” before its root cause.") % {"field": labels[key]})
    for key, value in disciplines.items():
        if len(value) > DISCIPLINE_MAX:
            raise ValidationError(
                _("“%(field)s” is longer than %(n)s characters.") % {"field": labels[key], "n": DISCIPLINE_MAX}
            )
    return disciplines


def analysis_clean(method: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The method's structured record, checked; raises ValidationError with a translated message."""
    data = data or {}
    if method == RootCauseMethod.FIVE_WHYS:
        return _whys(data)
    if method == RootCauseMethod.FISHBONE:
        return _fishbone(data)
    if method == RootCauseMethod.EIGHT_D:
        return _eight_d(data)
    return {}


def analysis_from_post(post: Mapping[str, Any]) -> dict[str, Any]:
    """What the root-cause form posts (why_1, because_1 …, fish_people …, d0 …) as the dict analysis_clean reads.
    Every method's fields are read; analysis_clean keeps only the chosen one's."""
    return {
        "whys": [
            {"why": post.get(f"why_{i}", ""), "because": post.get(f"because_{i}", "")} for i in range(1, MAX_WHYS + 1)
        ],
        "causes": {key: str(post.get(f"fish_{key}", "")).splitlines() for key, _label in FISHBONE},
        **{key: post.get(key, "") for key in WRITTEN_DISCIPLINES},
    }


def fishbone_rows(analysis: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(category label, causes) in the fishbone's order, for pages and the report."""
    causes = analysis.get("causes") or {}
    return [(str(label), list(causes.get(key, []))) for key, label in FISHBONE]


def analysis_summary(analysis: Mapping[str, Any]) -> str:
    """The stored analysis as one line a person reads (the field history), not the dict it is stored as."""
    parts = [
        f"{_('Why?')} {w.get('why', '')} → {_('Because')} {w.get('because', '')}" for w in analysis.get("whys") or []
    ]
    parts += [f"{label}: {', '.join(causes)}" for label, causes in fishbone_rows(analysis) if causes]
    parts += [f"{label}: {analysis[key]}" for key, label in DISCIPLINES if _text(analysis.get(key))]
    return "; ".join(parts)
