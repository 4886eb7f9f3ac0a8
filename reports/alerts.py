"""Alerts (ISO 9001 9.1.3): quality managers hear of a special cause or a significant drop without looking.

After each rollup refresh the last completed week of every active survey is checked: does the detractor share's
p-chart (26 weeks) flag that week by a Western Electric rule, or is the week's headline figure significantly worse
than the four weeks before it? Each event is stored once (unique per survey, kind and week), so each is emailed
once, however often the check runs; an email that failed is retried by the next check.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import quality_manager_addresses
from reports import stats
from reports.dashboard import STATS, change, decimals, headline, measure_name, min_n, rollup_frame
from reports.formatting import number, p_value
from reports.models import AlertEvent, AlertSettings
from surveys.models import Survey
from surveys.scoring import SurveyKind

WEEKS = 26
BASELINE_WEEKS = 4


def last_completed_week(today: date) -> date:
    """The Monday of the last whole week before today."""
    return today - timedelta(days=today.weekday() + 7)


def alerts_check(today: date | None = None) -> int:
    """Record the new events of every active survey and email them; returns how many were new."""
    today = today or timezone.localdate()
    week = last_completed_week(today)
    new = 0
    email_rules = AlertSettings.load().email_rules
    for survey in Survey.objects.filter(status=Survey.Status.ACTIVE):
        for kind, detail in _events(survey, week, email_rules):
            try:
                with transaction.atomic():
                    AlertEvent.objects.create(survey=survey, kind=kind, period_start=week, detail=detail)
                new += 1
            except IntegrityError:
                pass  # already recorded
    pending = list(AlertEvent.objects.filter(notified_at__isnull=True).select_related("survey"))
    addresses = quality_manager_addresses() if pending else []
    for event in pending:
        _notify(event, addresses)
    return new


def _events(survey: Survey, week: date, email_rules: list[int]) -> list[tuple[str, str]]:
    first = week - timedelta(weeks=WEEKS - 1)
    frame = rollup_frame(survey, first, week + timedelta(days=6))
    if not len(frame):
        return []
    frame = frame.assign(week=frame["day"].dt.to_period("W-SUN")).groupby("week")[list(STATS)].sum()
    weeks = {period.start_time.date(): {s: int(row[s]) for s in STATS} for period, row in frame.iterrows()}
    events = []
    series = [(start.isoformat(), sums["detractors"], sums["count"]) for start, sums in sorted(weeks.items())]
    points = stats.p_chart(series, min_n=min_n()).points
    last = points[-1] if points else None
    # Only a rise of the detractor share is news to act on; a fall below the limits is good news. Only the rules
    # chosen for email count here (rule 1 alone by default): the page shows every rule.
    emailed = [rule for rule in (last.rules if last else ()) if rule in email_rules]
    if last and last.label == week.isoformat() and emailed and last.share > last.centre:
        rules = ", ".join(str(rule) for rule in emailed)
        with translation.override(settings.LANGUAGE_CODE):  # the language the alert is emailed in
            fired = _("rules %(rules)s") % {"rules": rules}
            detail = f"{number(last.share, 1)}% / {number(last.centre, 1)}% (n = {number(last.n)}); {fired}"
        events.append((AlertEvent.Kind.SPECIAL_CAUSE, detail))
    current = weeks.get(week)
    before = [weeks[w] for w in weeks if week - timedelta(weeks=BASELINE_WEEKS) <= w < week]
    if current and before:
        baseline = {s: sum(b[s] for b in before) for s in STATS}
        test = change(survey.kind, baseline, current)
        now, then = headline(survey.kind, current), headline(survey.kind, baseline)
        # For CES a higher mean is worse (more effort); for NPS and CSAT a lower figure is.
        higher_is_worse = survey.kind == SurveyKind.CES
        worse = test.difference is not None and (test.difference > 0) == higher_is_worse and test.difference != 0
        if test.significant and worse and now.enough and then.enough:
            places = decimals(survey.kind)
            with translation.override(settings.LANGUAGE_CODE):
                detail = (
                    f"{number(then.value, places)} → {number(now.value, places)} "
                    f"(n = {number(now.n)}; {p_value(test.p_value)})"
                )
            events.append((AlertEvent.Kind.DROP, detail))
    return events


def _notify(event: AlertEvent, addresses: list[str]) -> None:
    if not addresses:
        return
    query = urlencode(
        {
            "survey": event.survey_id,
            "start": (event.period_start - timedelta(weeks=WEEKS - 1)).isoformat(),
            "end": (event.period_start + timedelta(days=6)).isoformat(),
            "granularity": "week",
        }
    )
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "event": event,
            "survey_title": event.survey.title(language),
            "measure": measure_name(event.survey.kind),
            "link": f"{settings.SITE_URL}{reverse('dashboard')}?{query}",
            "week": event.period_start,
        }
        subject = " ".join(render_to_string("reports/email/alert_subject.txt", context).split())
        body = render_to_string("reports/email/alert.txt", context)
    send_mail(subject, body, None, addresses)
    AlertEvent.objects.filter(pk=event.pk).update(notified_at=timezone.now())


def alert_settings_save(*, email_rules: list[int]) -> AlertSettings:
    """Choose which Western Electric rules send an email (at least one; rule 1 alone by default)."""
    rules = sorted({int(rule) for rule in email_rules if int(rule) in stats.RULES})
    if not rules:
        raise ValidationError(_("Choose at least one rule."))
    current = AlertSettings.load()
    current.email_rules = rules
    current.save(update_fields=["email_rules"])
    return current
