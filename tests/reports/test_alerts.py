from datetime import timedelta

import pytest
from django.utils import timezone

from reports.alerts import alerts_check, last_completed_week
from reports.models import AlertEvent
from reports.rollup import rollup_refresh
from tests.factories import make_response, make_survey, quality_manager

pytestmark = pytest.mark.django_db


def week_of(weeks_back: int):
    monday = last_completed_week(timezone.localdate()) - timedelta(weeks=weeks_back)
    return timezone.make_aware(timezone.datetime.combine(monday + timedelta(days=2), timezone.datetime.min.time()))


def answers(survey, weeks_back, scores):
    for score in scores:
        make_response(survey, score, at=week_of(weeks_back))


def test_a_spike_of_detractors_emails_the_quality_managers_once(mailoutbox, settings):
    settings.SITE_URL = "https://survey.example.org"
    quality_manager(username="lan", email="lan@example.com")
    survey = make_survey(kind="nps")
    for weeks_back in range(1, 12):
        answers(survey, weeks_back, [10] * 40 + [3] * 10)  # a steady 20 % of detractors
    answers(survey, 0, [10] * 20 + [3] * 30)  # last week: 60 %
    rollup_refresh()
    assert alerts_check() == 2  # a special cause, and a significant drop of the NPS
    kinds = set(AlertEvent.objects.values_list("kind", flat=True))
    assert kinds == {"rule", "drop"}
    assert len(mailoutbox) == 2 and "lan@example.com" in mailoutbox[0].to  # every quality manager
    bodies = " ".join(m.body for m in mailoutbox)
    assert "https://survey.example.org/reports/?survey=" in bodies and "granularity=week" in bodies
    assert alerts_check() == 0 and len(mailoutbox) == 2  # once per event


def test_a_steady_or_improving_process_raises_nothing(mailoutbox):
    quality_manager(username="lan", email="lan@example.com")
    survey = make_survey(kind="csat")
    for weeks_back in range(1, 12):
        answers(survey, weeks_back, [5] * 30 + [1] * 10)
    answers(survey, 0, [5] * 39 + [1] * 1)  # better than usual: good news is not an alert
    rollup_refresh()
    assert alerts_check() == 0 and mailoutbox == []


def test_an_email_that_could_not_go_is_retried(mailoutbox, monkeypatch):
    from reports import alerts

    quality_manager(username="lan", email="lan@example.com")
    survey = make_survey(kind="nps")
    for weeks_back in range(1, 12):
        answers(survey, weeks_back, [10] * 40 + [3] * 10)
    answers(survey, 0, [3] * 50)
    rollup_refresh()

    def down(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(alerts, "send_mail", down)
    with pytest.raises(OSError):
        alerts_check()
    monkeypatch.undo()
    assert AlertEvent.objects.filter(notified_at__isnull=True).exists()
    alerts_check()
    assert len(mailoutbox) == 2 and not AlertEvent.objects.filter(notified_at__isnull=True).exists()


def test_only_the_rules_chosen_for_email_send_one(mailoutbox, qm_client):
    from django.urls import reverse

    from reports.models import AlertSettings

    quality_manager(username="lan", email="lan@example.com")
    survey = make_survey(kind="nps")
    # Twelve weeks at 20 % detractors, then two at 30 % (n = 100 each). p̄ = 300/1400 = 21.43 %, σ = 4.10 %: the
    # two weeks sit at z = 2.09 — rule 2 (two of three beyond 2σ), not rule 1. Nor is last week a significant
    # drop: NPS 40 (n = 100) against 55 (n = 400), z = −0.15/0.1007 = −1.49.
    for weeks_back in range(2, 14):
        answers(survey, weeks_back, [10] * 80 + [3] * 20)
    answers(survey, 1, [10] * 70 + [3] * 30)
    answers(survey, 0, [10] * 70 + [3] * 30)
    rollup_refresh()
    page = qm_client.get(reverse("alert_settings")).content.decode()
    # Rule 1 alone (the default): one stable week in 370 is flagged, about one false email in 741 weeks.
    assert "khoảng một tuần trong 370" in page and "741 tuần" in page
    assert AlertSettings.load().email_rules == [1]
    assert alerts_check() == 0 and mailoutbox == []
    qm_client.post(reverse("alert_settings"), {"rules": ["1", "2"]})
    assert AlertSettings.load().email_rules == [1, 2]
    # Rules 1 + 2 flag one stable week in 215; half of those are rises: one false email in about 430 weeks.
    assert "430 tuần" in qm_client.get(reverse("alert_settings")).content.decode()
    assert alerts_check() == 1 and AlertEvent.objects.get().kind == "rule" and len(mailoutbox) == 1
    assert qm_client.post(reverse("alert_settings"), {"rules": []}).status_code == 200  # at least one rule
    assert AlertSettings.load().email_rules == [1, 2]
