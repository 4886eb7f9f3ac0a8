"""The ISO 9001 9.1.2 evidence pack for a period: what was planned (each survey's plan), how it was asked
(methods and channels), how many answered (response rates), what was found (results with their 95 % intervals),
the analyses kept (9.1.3) and the conclusions drawn — one PDF an auditor can take away.

Bilingual by putting the reader's language first and the other alongside: every heading and label reads
"Mục đích / Purpose" (or "Purpose / Mục đích"); survey titles are given in both languages. Texts people typed
(plans, conclusions) are shown as typed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Sum
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports import stats
from reports.analysis import analyses_in, analysis_summary
from reports.dashboard import STATS, headline, measure_name, min_n
from reports.formatting import number
from reports.models import DailyRollup, InvitationRollup, ManagementReview
from reports.pack_records import analysis_lines, estimate_text
from surveys.building import headline_question_ids
from surveys.models import Response, Survey

L = {
    "title": gettext_lazy("Monitoring and measurement evidence (ISO 9001 9.1.2)"),
    "period": gettext_lazy("Period"),
    "plan": gettext_lazy("Survey plan"),
    "purpose": gettext_lazy("Purpose"),
    "scope": gettext_lazy("Scope"),
    "population": gettext_lazy("Target population"),
    "method": gettext_lazy("Method and channel"),
    "frequency": gettext_lazy("Frequency"),
    "sample": gettext_lazy("Sample target (responses)"),
    "owner": gettext_lazy("Owner"),
    "channels": gettext_lazy("Channels the answers came through"),
    "funnel": gettext_lazy("Response rate"),
    "delivered": gettext_lazy("Delivered"),
    "answered": gettext_lazy("Answered"),
    # xgettext:no-python-format
    "result": gettext_lazy("Result (95 % interval)"),
    "detractors": gettext_lazy("Share of detractors"),
    "analyses": gettext_lazy("Analyses (ISO 9001 9.1.3)"),
    "conclusions": gettext_lazy("Conclusions drawn"),
    "review": gettext_lazy("Management review"),
    "none": gettext_lazy("None in this period."),
    "not_set": gettext_lazy("not set"),
    "surveys": gettext_lazy("Surveys"),
    "no_surveys": gettext_lazy("No survey was answered or sent in this period."),
}


def both(key: str, language: str) -> str:
    """A label in the reader's language, then the other one: "Mục đích / Purpose"."""
    other = "en" if language == "vi" else "vi"
    with translation.override(language):
        first = str(L[key])
    with translation.override(other):
        second = str(L[key])
    return first if first == second else f"{first} / {second}"


def _estimate(e: stats.Estimate) -> dict[str, Any]:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n, "enough": e.enough}


def evidence_inputs(start: date, end: date) -> dict[str, Any]:
    """Language-neutral figures of the period (codes, numbers, typed texts)."""
    funnels = {
        r["survey"]: r
        for r in InvitationRollup.objects.filter(day__gte=start, day__lte=end)
        .values("survey")
        .annotate(delivered=Sum("delivered"), answered=Sum("answered"))
        .order_by()
    }
    answered = set(DailyRollup.objects.filter(day__gte=start, day__lte=end).values_list("survey", flat=True))
    surveys = Survey.objects.filter(pk__in=answered | set(funnels)).select_related("owner").order_by("id")
    rows = []
    for survey in surveys:
        questions = headline_question_ids(survey)
        days = DailyRollup.objects.filter(survey=survey, question_id__in=questions, day__gte=start, day__lte=end)
        sums = {s: v or 0 for s, v in days.aggregate(**{s: Sum(s) for s in STATS}).items()}
        channels = dict(days.values_list("channel").annotate(n=Sum("count")).order_by())
        funnel = funnels.get(survey.pk, {"delivered": 0, "answered": 0})
        rows.append(
            {
                "title": {"vi": survey.title_vi, "en": survey.title_en},
                "kind": survey.kind,
                "owner": survey.owner.get_full_name() or survey.owner.get_username() if survey.owner_id else "",
                "plan": {
                    "purpose": survey.plan_purpose,
                    "scope": survey.plan_scope,
                    "population": survey.plan_population,
                    "method": survey.plan_method,
                    "frequency": survey.plan_frequency,
                    "sample": survey.plan_sample_target,
                },
                "channels": {c or "email": n for c, n in channels.items()},
                "delivered": funnel["delivered"] or 0,
                "answered": funnel["answered"] or 0,
                "rate": _estimate(
                    stats.share_estimate(funnel["answered"] or 0, funnel["delivered"] or 0, min_n=min_n())
                ),  # fmt: skip
                "result": _estimate(headline(survey.kind, sums)),
                "detractors": _estimate(stats.share_estimate(sums["detractors"], sums["count"], min_n=min_n())),
            }
        )
    reviews = ManagementReview.objects.filter(
        status=ManagementReview.Status.SIGNED, period_start__lte=end, period_end__gte=start
    ).order_by("period_end")
    return {
        "period": [start.isoformat(), end.isoformat()],
        "surveys": rows,
        "analyses": [analysis_summary(a) for a in analyses_in(start, end)],
        "reviews": [{"title": r.title, "decisions": r.decisions} for r in reviews],
    }


def _date(value: str) -> str:
    return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")


def evidence_view(inputs: dict[str, Any], language: str) -> dict[str, Any]:
    """Every line of the pack, labelled in both languages (the reader's first)."""
    channel_names = dict(Response.Channel.choices)
    other = "en" if language == "vi" else "vi"
    labels = {key: both(key, language) for key in L}
    surveys = []
    for s in inputs["surveys"]:
        titles = [s["title"][language], s["title"][other]]
        unit = "%" if s["kind"] == "csat" else ""
        plan = s["plan"]
        surveys.append(
            {
                "title": " / ".join(dict.fromkeys(t for t in titles if t)),
                "plan": [
                    (labels[key], (str(plan[key]) if plan[key] not in (None, "") else labels["not_set"]))
                    for key in ("purpose", "scope", "population", "method", "frequency", "sample")
                ]
                + [(labels["owner"], s["owner"])],
                "channels": ", ".join(
                    f"{channel_names.get(c, c)}: {number(n)}" for c, n in sorted(s["channels"].items())
                )
                or "—",
                "delivered": number(s["delivered"]),
                "answered": number(s["answered"]),
                "rate": estimate_text(s["rate"], "%") if s["delivered"] else "—",
                "measure": measure_name(s["kind"]),
                "result": estimate_text(s["result"], unit, 2 if s["kind"] == "ces" else 1),
                "detractors": estimate_text(s["detractors"], "%"),
            }
        )
    return {
        "labels": labels,
        "period": f"{_date(inputs['period'][0])} – {_date(inputs['period'][1])}",
        "surveys": surveys,
        "analyses": [analysis_lines(a, language) for a in inputs["analyses"]],
        "reviews": inputs["reviews"],
    }


def evidence_pdf(inputs: dict[str, Any], language: str) -> bytes:
    from reports.pdf import Kit

    view = evidence_view(inputs, language)
    lab = view["labels"]
    kit = Kit()
    p, h2, h3, table = kit.p, kit.h2, kit.h3, kit.table
    story: list[Any] = [p(lab["title"], kit.h1), p(f"{lab['period']}: {view['period']}")]
    story.append(p(lab["surveys"], h2))
    if not view["surveys"]:
        story.append(p(lab["no_surveys"]))
    for s in view["surveys"]:
        story.append(p(s["title"], h3))
        story.append(p(lab["plan"], kit.body))
        story.append(table([[k, v] for k, v in s["plan"]], [55, 115]))
        story.append(p(f"{lab['channels']}: {s['channels']}"))
        story.append(table([[lab["delivered"], lab["answered"], lab["funnel"]],
                            [s["delivered"], s["answered"], s["rate"]]], [35, 35, 100]))  # fmt: skip
        story.append(table([[lab["result"], lab["detractors"]],
                            [f"{s['measure']}: {s['result']}", s["detractors"]]], [85, 85]))  # fmt: skip
    story.append(p(lab["analyses"], h2))
    if not view["analyses"]:
        story.append(p(lab["none"]))
    for a in view["analyses"]:
        story.append(p(f"{a['title']} — {a['survey']} ({a['range']})", h3))
        story.append(p(f"{a['measure']}: {a['total']} · {a['response_rate']}"))
        story.append(p(f"{lab['conclusions']}: {a['conclusion']}"))
        story.append(p(f"{a['by']}, {a['at']}", kit.small))
    story.append(p(lab["conclusions"], h2))
    if not view["reviews"]:
        story.append(p(lab["none"]))
    for r in view["reviews"]:
        story.append(p(f"{lab['review']}: {r['title']}", h3))
        story.append(p(r["decisions"] or "—"))
    return kit.build(story, title=_("Monitoring and measurement evidence (ISO 9001 9.1.2)"))
