"""Effectiveness of a corrective action judged from data (ISO 9001 10.2.1 d)."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from feedback import corrective, effectiveness, workflow
from feedback.models import Category, EffectivenessReview
from reports import stats
from tests.factories import CustomerFactory, make_response, make_survey, quality_manager, staff_user

pytestmark = pytest.mark.django_db
PIVOT = date(2026, 6, 1)
TODAY = datetime(2026, 10, 1, 12, tzinfo=timezone.get_current_timezone())  # both 90-day windows are complete


def at(days: int) -> datetime:
    """An instant `days` after the pivot (negative: before it), at noon."""
    return timezone.make_aware(datetime.combine(PIVOT + timedelta(days=days), datetime.min.time())) + timedelta(
        hours=12
    )


def complaints(category, days: int, count: int) -> None:
    with time_machine.travel(at(days), tick=False):
        for _ in range(count):
            workflow.case_create(channel="phone", description="trễ", contact_name="k", category=category)


def ready_action(**fields):
    """An action raised before the windows, whose items are done, so its effectiveness can be reviewed."""
    with time_machine.travel(at(-100), tick=False):
        action = corrective.action_create(title="Giao hàng trễ", nonconformity="Đơn trễ", owner=quality_manager())
        corrective.action_record_containment(action=action, containment="Giao bù")
        corrective.action_decide(action=action, needed=True, reason="Lặp lại")
        corrective.action_record_root_cause(
            action=action,
            root_cause="Thiếu tài xế",
            method="other",
            similar_possible=False,
            similar="",
            update_risks=False,
            qms_change=False,
        )
        item = corrective.item_add(action=action, description="Tuyển tài xế", owner=staff_user(), due_date=PIVOT)
        corrective.item_set_status(item=item, status="done")
    for name, value in fields.items():
        setattr(action, name, value)
    action.effective_from = PIVOT
    action.save()
    return action


def test_complaints_outnumbering_responses_are_a_rate_not_a_500(qm_client):
    # 30 complaints against 12 responses before, 15 against 12 after. As a "proportion" its variance was negative
    # and the page failed. As rates: 2,500 and 1,250 per 1,000 responses; exact test: of the 45 complaints, under
    # equal rates (equal exposure) X ~ Binomial(45, ½) in the after-window; P(X ≤ 15) = 0.0178, two-sided 0.036.
    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    survey = make_survey(kind="csat")
    for days in (-10, 10):
        for _ in range(12):
            make_response(survey, 5, at=at(days))
    complaints(delivery, -10, 30)
    complaints(delivery, 10, 15)
    action = ready_action(category=delivery, survey=survey)
    with time_machine.travel(TODAY, tick=False):
        (rate, _share) = effectiveness.action_comparisons(action)
        assert (rate.before_rate, rate.after_rate) == (2500.0, 1250.0)
        assert rate.method == stats.RATE_EXACT and rate.p == pytest.approx(0.0357, abs=5e-4) and rate.improved
        page = qm_client.get(reverse("action_detail", args=[action.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "2.500,0 (30/12)" in html and "1.250,0 (15/12)" in html


def test_small_proportions_use_fishers_exact_test():
    # Detractors 0 of 40 before, 3 of 40 after: the expected counts are 1.5, too small for z. Fisher: with three
    # detractors in 80, P(all three after) = C(40,3)/C(80,3) = 9880/82160 = 0.12025 and the same for all three
    # before; the 1–2 and 2–1 splits are more likely. p = 0.2405.
    survey = make_survey(kind="nps")
    for score in [10] * 40:
        make_response(survey, score, at=at(-5))
    for score in [10] * 37 + [0] * 3:
        make_response(survey, score, at=at(5))
    action = ready_action(survey=survey)
    with time_machine.travel(TODAY, tick=False):
        (share,) = effectiveness.action_comparisons(action)
        assert share.method == stats.FISHER and share.p == pytest.approx(0.2405, abs=1e-4)
        assert effectiveness.action_verdict(action).state == effectiveness.UNCLEAR


def test_a_fall_that_happened_everywhere_is_not_credited_to_the_action():
    # The category's complaints halve (40 → 20), but so do the other categories' (80 → 40): the category's share
    # of all complaints is 1/3 in both windows (Fisher p = 1). The rate fell significantly, the difference-in-
    # differences says nothing changed beyond what happened anyway: not yet clear, not effective.
    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    billing = Category.objects.create(name_vi="Hóa đơn", name_en="Billing")
    survey = make_survey(kind="csat")
    for days in (-10, 10):
        for _ in range(100):
            make_response(survey, 5, at=at(days))
    complaints(delivery, -10, 40)
    complaints(billing, -10, 80)
    complaints(delivery, 10, 20)
    complaints(billing, 10, 40)
    action = ready_action(category=delivery)
    with time_machine.travel(TODAY, tick=False):
        (rate,) = effectiveness.action_comparisons(action)
        assert rate.improved and rate.control_p == pytest.approx(1.0) and rate.beyond_control is False
        assert (rate.control_before, rate.control_after) == (800.0, 400.0)  # 80 and 40 per 100 responses
        assert effectiveness.action_verdict(action).state == effectiveness.UNCLEAR


def test_a_special_cause_in_the_before_window_warns_of_regression_to_the_mean(qm_client):
    survey = make_survey(kind="nps")
    for week in range(-13, 0):
        scores = [0] * 30 + [10] * 10 if week == -2 else [0] * 4 + [10] * 36  # one bad week: 75 % against 10 %
        for score in scores:
            make_response(survey, score, at=at(7 * week + 1))
    action = ready_action(survey=survey)
    with time_machine.travel(TODAY, tick=False):
        (share,) = effectiveness.action_comparisons(action)
        assert share.special_before
        html = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert 'data-testid="regression-warning"' in html


def test_on_the_first_day_the_verdict_is_too_early_with_the_date_it_will_not_be(qm_client):
    survey = make_survey(kind="nps")
    action = ready_action(survey=survey)
    with time_machine.travel(at(0), tick=False):
        verdict = effectiveness.action_verdict(action)
        assert verdict.state == effectiveness.TOO_EARLY and verdict.enough_from == date(2026, 8, 30)  # + 90 days
        html = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert "quá sớm: khoảng “sau” đủ số liệu từ 30/08/2026" in html


def test_recording_effective_against_the_data_needs_a_written_justification():
    survey = make_survey(kind="nps")
    customer = CustomerFactory(segment="retail")
    for score in [10] * 30 + [0] * 10:
        make_response(survey, score, customer=customer, at=at(-5))
    for score in [10] * 20 + [0] * 20:  # worse: 25 % → 50 % detractors
        make_response(survey, score, customer=customer, at=at(5))
    action = ready_action(survey=survey)
    fields = {"method": "Tỷ lệ khách không hài lòng", "evidence": "Bảng số liệu", "reviewer": action.owner}
    with time_machine.travel(TODAY, tick=False):
        assert effectiveness.action_verdict(action).state == effectiveness.WORSE
        with pytest.raises(ValidationError, match="giải thích bằng văn bản|explain in writing"):
            corrective.action_record_review(action=action, reviewed_on=TODAY.date(), result="effective", **fields)
        assert not EffectivenessReview.objects.exists()
        review = corrective.action_record_review(
            action=action,
            reviewed_on=TODAY.date(),
            result="effective",
            justification="Số liệu tháng 6 bị ảnh hưởng bởi bão; khách hàng xác nhận qua điện thoại.",
            **fields,
        )
    review.refresh_from_db()
    assert review.data_verdict == "worse" and review.justification.startswith("Số liệu tháng 6")


def test_recording_not_effective_needs_no_justification():
    survey = make_survey(kind="nps")
    action = ready_action(survey=survey)
    with time_machine.travel(at(1), tick=False):
        review = corrective.action_record_review(
            action=action, method="m", evidence="e", reviewer=action.owner, reviewed_on=at(1).date(),
            result="ineffective",
        )  # fmt: skip
    assert review.data_verdict == effectiveness.TOO_EARLY and review.justification == ""


def test_a_category_that_fell_less_than_the_others_is_not_credited_to_the_action():
    # The category's complaints halve (40 → 20 per 100 responses: exact rate test p ≈ 0.01), but the other
    # categories' fall far more (80 → 5). The category's share of all complaints rose from 40/120 = 33 % to
    # 20/25 = 80 %: Fisher p < 0.001, a real difference, in the wrong direction. The action did worse than doing
    # nothing; "effective" was recorded because the difference-in-differences was read without its sign.
    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    billing = Category.objects.create(name_vi="Hóa đơn", name_en="Billing")
    survey = make_survey(kind="csat")
    for days in (-10, 10):
        for _ in range(100):
            make_response(survey, 5, at=at(days))
    complaints(delivery, -10, 40)
    complaints(billing, -10, 80)
    complaints(delivery, 10, 20)
    complaints(billing, 10, 5)
    action = ready_action(category=delivery)
    with time_machine.travel(TODAY, tick=False):
        (rate,) = effectiveness.action_comparisons(action)
        assert rate.improved and rate.control_p < 0.001 and rate.beyond_control is False
        assert effectiveness.action_verdict(action).state == effectiveness.UNCLEAR


def test_a_segment_whose_detractors_fell_less_than_the_others_is_not_credited_to_the_action(qm_client):
    # The action's segment: detractors 50/100 → 30/100 (z-test p ≈ 0.004). The other segments: 50/100 → 5/100.
    # Difference-in-differences: (−20) − (−45) = +25 points, z ≈ 2.9: significant, and against the action.
    survey = make_survey(kind="nps")
    retail, others = CustomerFactory(segment="retail"), CustomerFactory(segment="corporate")
    for customer, before, after in ((retail, 50, 30), (others, 50, 5)):
        for score in [0] * before + [10] * (100 - before):
            make_response(survey, score, customer=customer, at=at(-10))
        for score in [0] * after + [10] * (100 - after):
            make_response(survey, score, customer=customer, at=at(10))
    action = ready_action(survey=survey, segment="retail")
    with time_machine.travel(TODAY, tick=False):
        (share,) = effectiveness.action_comparisons(action)
        assert share.improved and share.control_p < 0.01 and share.beyond_control is False
        assert effectiveness.action_verdict(action).state == effectiveness.UNCLEAR
        html = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert "thay đổi khác với nơi này, nhưng không theo hướng tốt hơn" in html


def test_the_detractor_share_counts_the_headline_question_only():
    # Each response answers the headline NPS question and a second NPS question ("and our app?"), which stays at 0.
    # Headline detractors: 30/60 before, 10/60 after (z-test p ≈ 0.0001). Pooled with the second question the
    # share read 90/120 → 70/120 with n doubled: neither the dashboard's figure nor its n.
    from surveys import building
    from surveys.models import Answer

    qm = quality_manager(username="owner")
    survey = building.survey_create(owner=qm, kind="nps", title_en="Two", title_vi="Hai", with_comment=False)
    second = building.question_add(version=survey.current_version, kind="nps", text_en="App?", text_vi="Ứng dụng?")
    building.survey_activate(survey=survey)
    for days, bad in ((-10, 30), (10, 10)):
        for score in [0] * bad + [10] * (60 - bad):
            Answer.objects.create(response=make_response(survey, score, at=at(days)), question=second, number=0)
    action = ready_action(survey=survey)
    with time_machine.travel(TODAY, tick=False):
        (share,) = effectiveness.action_comparisons(action)
    assert (share.before_k, share.before_n, share.after_k, share.after_n) == (30, 60, 10, 60)


def test_a_comment_at_the_first_instant_of_the_action_counts_after_it_only():
    # The windows are half-open, as for complaints and detractors: a comment written at 00:00:00 of the day the
    # action took effect is one "after" comment. It was counted in both windows (1/1 before and 1/1 after).
    from insight import services
    from insight.models import CommentInsight, CommentTheme, Theme
    from surveys.models import Answer

    services.themes_seed_starter()
    theme = Theme.objects.order_by("pk").first()
    survey = make_survey(kind="nps")
    pivot = at(0) - timedelta(hours=12)
    response = make_response(survey, 3, at=pivot)
    question = survey.current_version.questions.order_by("position").last()
    answer = Answer.objects.create(response=response, question=question, text="Giao hàng chậm")
    comment = CommentInsight.objects.create(answer=answer, response=response, survey=survey, submitted_at=pivot,
                                            sentiment="negative")  # fmt: skip
    CommentTheme.objects.create(comment=comment, theme=theme, confidence=0.9, survey=survey, submitted_at=pivot)
    action = ready_action(survey=survey)
    action.themes.add(theme)
    with time_machine.travel(TODAY, tick=False):
        themed = [c for c in effectiveness.action_comparisons(action) if c.label == "theme"]
    assert [(c.before_k, c.before_n, c.after_k, c.after_n) for c in themed] == [(0, 0, 1, 1)]


def test_the_detractor_share_uses_the_standard_bands_not_the_closed_loop_thresholds(qm_client):
    # The survey opens a case for NPS 0–7 (its closed-loop threshold); the NPS bands stay 0–6 / 7–8 / 9–10.
    # Before: six 0s, four 7s, ten 10s. After: two 0s, eight 7s, ten 10s.
    # Standard bands: 6/20 = 30 % → 2/20 = 10 % (the dashboard's detractor share, from the rollups).
    # The closed-loop threshold read 10/20 = 50 % both times: "no change", and another figure than the dashboard's.
    from reports.models import DailyRollup
    from reports.rollup import rollup_rebuild

    survey = make_survey(kind="nps")
    survey.nps_detractor_max = 7
    survey.save(update_fields=["nps_detractor_max"])
    for days, scores in ((-10, [0] * 6 + [7] * 4 + [10] * 10), (10, [0] * 2 + [7] * 8 + [10] * 10)):
        for score in scores:
            make_response(survey, score, at=at(days))
    action = ready_action(survey=survey)
    with time_machine.travel(TODAY, tick=False):
        rollup_rebuild()
        (share,) = effectiveness.action_comparisons(action)
        html = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert (share.before_k, share.before_n, share.after_k, share.after_n) == (6, 20, 2, 20)
    rows = DailyRollup.objects.filter(survey=survey)
    dashboard = {row.day < PIVOT: (row.detractors, row.count) for row in rows}
    assert dashboard == {True: (6, 20), False: (2, 20)}
    assert "30,0 (6/20)" in html and "10,0 (2/20)" in html
    assert "Người phản đối: NPS 0–6, CSAT 1–2, CES 6–7" in html


def test_the_ces_high_effort_share_uses_the_standard_bands():
    # CES, closed loop from 5: before 5, 5, 6, 1 (standard high effort 6–7: 1/4), after 5, 1, 1, 1 (0/4).
    survey = make_survey(kind="ces")
    survey.ces_detractor_min = 5
    survey.save(update_fields=["ces_detractor_min"])
    for days, scores in ((-10, [5, 5, 6, 1]), (10, [5, 1, 1, 1])):
        for score in scores:
            make_response(survey, score, at=at(days))
    action = ready_action(survey=survey)
    with time_machine.travel(TODAY, tick=False):
        (share,) = effectiveness.action_comparisons(action)
    assert (share.before_k, share.before_n, share.after_k, share.after_n) == (1, 4, 0, 4)
