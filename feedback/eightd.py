"""The 8D report of a corrective action (D0–D8), as a PDF in the reader's language.

Any action has one, whatever method found its cause: the disciplines an 8D form asks for are written on it when the
method is 8D, and the rest come from the action's own record (D3 its correction, D4 its root cause, D5 and D6 its
actions, reviews and evidence files, D7 the similar nonconformities and system changes, D8 its closure).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from config import pdf
from feedback import rootcause
from feedback.models import CorrectiveAction, RootCauseMethod


def _person(user: AbstractBaseUser | None) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


def _when(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _written(action: CorrectiveAction, key: str) -> str:
    if action.root_cause_method != RootCauseMethod.EIGHT_D:
        return ""
    return str((action.root_cause_analysis or {}).get(key, "")).strip()


def disciplines(action: CorrectiveAction) -> list[tuple[str, list[Any]]]:
    """(heading, blocks) per discipline; a block is a str (a paragraph) or ("table", rows, widths)."""
    labels = dict(rootcause.DISCIPLINES)
    items = list(action.items.select_related("owner"))
    reviews = list(action.reviews.select_related("reviewer"))
    evidence = list(action.evidence.select_related("uploaded_by"))
    analysis = action.root_cause_analysis or {}
    out: list[tuple[str, list[Any]]] = []

    out.append(
        (str(labels["d0"]), [_written(action, "d0") or _("Raised on %(date)s.") % {"date": _when(action.created_at)}])
    )
    team = _written(action, "d1")
    people = sorted({_person(action.owner), *(_person(i.owner) for i in items)})
    out.append((str(labels["d1"]), [team or _("Owner: %(owner)s.") % {"owner": _person(action.owner)},
                                    _("People with actions: %(names)s.") % {"names": ", ".join(people)}]))  # fmt: skip
    d2 = [_written(action, "d2") or action.nonconformity]
    if _written(action, "d2"):
        d2.append(_("Nonconformity recorded: %(text)s") % {"text": action.nonconformity})
    cases = [c.reference for c in action.cases.all()]
    if cases:
        d2.append(_("Complaint cases: %(refs)s.") % {"refs": ", ".join(cases)})
    out.append((str(labels["d2"]), d2))
    out.append(
        (
            str(labels["d3"]),
            [action.containment or "—", _("Corrected: %(when)s.") % {"when": _when(action.contained_at)}],
        )
    )

    d4: list[Any] = [action.root_cause or "—"]
    if action.root_cause_method:
        d4.insert(0, _("Method: %(method)s.") % {"method": action.get_root_cause_method_display()})
    if action.root_cause_method == RootCauseMethod.FIVE_WHYS and analysis.get("whys"):
        rows = [[_("Why?"), _("Because")]] + [[w["why"], w["because"]] for w in analysis["whys"]]
        d4.append(("table", rows, [87, 87]))
    if action.root_cause_method == RootCauseMethod.FISHBONE and analysis.get("causes"):
        rows = [[_("Category"), _("Causes")]] + [
            [label, "\n".join(c) or "—"] for label, c in rootcause.fishbone_rows(analysis)
        ]
        d4.append(("table", rows, [45, 129]))
    if action.similar_possible is not None:
        answer = _("Yes") if action.similar_possible else _("No")
        d4.append(_("Could similar nonconformities occur elsewhere? %(answer)s.") % {"answer": answer}
                  + (f" {action.similar_nonconformities}" if action.similar_nonconformities else ""))  # fmt: skip
    out.append((str(labels["d4"]), d4))

    d5: list[Any] = [_written(action, "d5")] if _written(action, "d5") else []
    if items:
        d5.append(("table", [[_("Action"), _("Owner"), _("Due date"), _("Status")]]
                   + [[i.description, _person(i.owner), _when(i.due_date), i.get_status_display()] for i in items],
                   [80, 40, 25, 29]))  # fmt: skip
    out.append((str(labels["d5"]), d5 or ["—"]))

    d6: list[Any] = [_written(action, "d6")] if _written(action, "d6") else []
    for r in reviews:
        d6.append(_("Effectiveness review of %(date)s by %(who)s: %(result)s. %(method)s — %(evidence)s")
                  % {"date": _when(r.reviewed_on), "who": _person(r.reviewer), "result": r.get_result_display(),
                     "method": r.method, "evidence": r.evidence})  # fmt: skip
    if evidence:
        d6.append(("table", [[_("Evidence file"), _("Step"), _("Uploaded"), _("SHA-256")]]
                   + [[e.name, e.get_step_display(), f"{_when(e.uploaded_at)}, {_person(e.uploaded_by)}",
                       e.sha256[:16] + "…"] for e in evidence],
                   [60, 30, 50, 34]))  # fmt: skip
    out.append((str(labels["d6"]), d6 or ["—"]))

    d7: list[Any] = [_written(action, "d7")] if _written(action, "d7") else []
    if action.similar_nonconformities:
        d7.append(_("Similar nonconformities: %(text)s") % {"text": action.similar_nonconformities})
    d7.append(
        _("Update risks and opportunities: %(answer)s.") % {"answer": _("Yes") if action.update_risks else _("No")}
    )
    d7.append(_("Change to the quality management system needed: %(answer)s.")
              % {"answer": _("Yes") if action.qms_change else _("No")})  # fmt: skip
    out.append((str(labels["d7"]), d7))
    d8 = [_written(action, "d8")] if _written(action, "d8") else []
    d8.append(
        _("Status: %(status)s. Closed: %(when)s.")
        % {"status": action.get_status_display(), "when": _when(action.closed_at)}
    )
    out.append((str(labels["d8"]), d8))
    return out


def action_8d_pdf(action: CorrectiveAction, language: str) -> bytes:
    """The report in `language` (the reader's): headings, labels, dates and numbers follow it."""
    with override(language):
        s = pdf.styles()
        story: list[Any] = [
            pdf.paragraph(_("8D report") + f" — {action.reference}", s["h1"]),
            pdf.paragraph(action.title, s["h3"]),
            pdf.paragraph(_("Printed %(when)s.") % {"when": _when(timezone.now())}, s["small"]),
        ]
        for heading, blocks in disciplines(action):
            story.append(pdf.paragraph(heading, s["h2"]))
            for block in blocks:
                if isinstance(block, tuple):
                    story.append(pdf.table(block[1], block[2], s["body"]))
                else:
                    story.append(pdf.paragraph(block, s["body"]))
        return pdf.build(story, title=f"8D {action.reference}")
