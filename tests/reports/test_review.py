import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from feedback import workflow
from feedback.models import Category
from reports.models import ManagementReview, QualityObjective, ReviewAction
from reports.review import review_add_action, review_create, review_inputs, review_sign
from reports.rollup import rollup_refresh
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def signer(user):
    """Sign-off is top management's (the quality manager here is also a director)."""
    from django.contrib.auth.models import Group

    from accounts.roles import TOP_MANAGEMENT

    user.groups.add(Group.objects.get(name=TOP_MANAGEMENT))
    user._role_groups = None
    return user


def new_review(user, **fields):
    values = {"title": "Xem xét của lãnh đạo 2026", "period_start": TODAY - timedelta(days=60), "period_end": TODAY,
              "prepared_by": user}  # fmt: skip
    values.update(fields)
    review = review_create(**values)
    from reports.review_records import review_save_meeting

    review_save_meeting(review=review, chair=user, attendees="Lan Nguyễn (QM)")
    return review


@pytest.fixture
def data(qm):
    survey = make_survey(kind="nps")
    survey.title_vi = "Khảo sát quan hệ khách hàng"
    survey.save()
    for days_ago, scores in ((10, [10] * 30 + [3] * 10), (40, [9] * 20 + [5] * 20), (100, [10] * 10 + [2] * 30)):
        for score in scores:
            make_response(survey, score, at=timezone.now() - timedelta(days=days_ago))
    rollup_refresh()
    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    for _ in range(2):
        workflow.case_create(channel="phone", description="Trễ hàng", contact_name="Anh Nam", category=delivery)
    QualityObjective.objects.create(
        title="NPS ≥ 20", metric="nps", target=20, survey=survey, owner=qm, method="m",
        start=TODAY - timedelta(days=60), due=TODAY + timedelta(days=30),
    )  # fmt: skip
    return survey


def test_the_pack_holds_the_iso_inputs_of_the_period(qm, data):
    inputs = review_inputs(new_review(qm))
    (row,) = inputs["satisfaction"]
    assert row["now"]["n"] == 80 and row["now"]["value"] == pytest.approx(100 * (50 - 30) / 80)
    assert row["before"]["n"] == 40 and row["change"]["significant"]  # NPS −50 before, 25 now
    assert [t["month"] for t in row["trend"]] == sorted({t["month"] for t in row["trend"]})
    # The chart's months read as the dashboard writes them (01/2026), not as their sort keys (2026-01).
    from reports.pack import pack_view

    (shown,) = pack_view(new_review(qm), inputs, "vi")["satisfaction"]
    first = row["trend"][0]["month"]
    assert shown["trend"][0][0] == f"{first[5:]}/{first[:4]}"
    assert inputs["complaints"]["received"] == 2 and inputs["complaints"]["categories"][0]["vi"] == "Giao hàng"
    # NPS 25 (n = 80) against a target of 20: the interval holds 20, so the verdict waits for more data.
    assert inputs["objectives"][0]["met"] is None and inputs["objectives"][0]["verdict"] == "unclear"


def test_signing_freezes_the_figures_and_locks_the_review(qm, data, qm_client):
    signer(qm)
    review = new_review(qm)
    review_add_action(review=review, description="Đào tạo lại đội giao hàng", owner=qm, due=TODAY + timedelta(days=30))
    qm_client.post(
        reverse("review_detail", args=[review.pk]), {"op": "decisions", "decisions": "Tăng ngân sách đào tạo."}
    )
    qm_client.post(reverse("review_detail", args=[review.pk]), {"op": "sign"})
    review.refresh_from_db()
    assert review.locked and review.signed_by == qm and review.snapshot["satisfaction"][0]["now"]["n"] == 80
    for score in [0] * 50:  # later answers do not change a signed pack
        make_response(data, score, at=timezone.now() - timedelta(days=1))
    rollup_refresh()
    page = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    assert "n = 80" in page and "Tăng ngân sách đào tạo." in page and 'data-testid="review-sign"' not in page
    refused = qm_client.post(
        reverse("review_detail", args=[review.pk]), {"op": "decisions", "decisions": "khác"}, follow=True
    )
    assert "đã được ký duyệt" in refused.content.decode()
    review.refresh_from_db()
    assert review.decisions == "Tăng ngân sách đào tạo."
    with pytest.raises(ValidationError):
        review_sign(review=review, user=qm)


def test_open_actions_are_carried_to_the_next_review_and_closing_them_closes_the_original(qm, qm_client):
    signer(qm)
    first = new_review(qm, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31))
    done = review_add_action(review=first, description="Xong rồi", owner=qm, due=date(2026, 1, 31))
    still_open = review_add_action(
        review=first, description="Cải tiến quy trình đổi trả", owner=qm, due=date(2026, 3, 31)
    )
    ReviewAction.objects.filter(pk=done.pk).update(done_at=date(2026, 1, 15))
    review_sign(review=first, user=qm)
    second = new_review(qm)
    (carried,) = second.actions.all()
    assert carried.description == still_open.description and carried.carried_from == still_open
    qm_client.post(reverse("review_detail", args=[second.pk]), {"op": "action_done", "action": carried.pk, "done": "1"})
    still_open.refresh_from_db()
    assert still_open.done_at == TODAY  # not carried a third time
    page = qm_client.get(reverse("review_detail", args=[second.pk])).content.decode()
    assert "chuyển từ kỳ trước" in page


def test_a_review_with_a_backwards_period_is_refused(qm, qm_client):
    response = qm_client.post(
        reverse("review_list"), {"title": "X", "period_start": "2026-06-01", "period_end": "2026-01-01"}
    )
    assert response.status_code == 200 and "không được trước" in response.content.decode()
    assert ManagementReview.objects.count() == 0


def test_the_pdf_builds_with_vietnamese_text_and_charts(qm, data, qm_client):
    review = new_review(qm)
    response = qm_client.get(reverse("review_pdf", args=[review.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Xem xét của lãnh đạo 2026" in text and "Khảo sát quan hệ khách hàng" in text and "Giao hàng" in text
    assert "NPS ≥ 20" in text
    # The trend chart has axis titles; the objectives' table says "Chỉ tiêu" (target), not "Mục tiêu" twice.
    assert "Tháng" in text and "Chỉ tiêu" in text


def test_a_survey_with_too_few_months_gets_a_sentence_not_an_empty_chart(qm, qm_client):
    survey = make_survey(kind="nps", owner=qm)
    for score in [9] * 40:
        make_response(survey, score, at=timezone.now() - timedelta(days=2))
    rollup_refresh()
    review = new_review(qm)
    response = qm_client.get(reverse("review_pdf", args=[review.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Quá ít tháng có đủ câu trả lời" in text
    assert "Tháng" not in text  # no chart frame, hence no axis title


def test_a_mean_effort_shows_as_on_the_dashboard_with_two_decimals(qm, qm_client):
    # CES 2 × 26 and 3 × 14: mean 94/40 = 2.35, s = 0.483, t interval 2.35 ± 2.0227·0.0764 = 2.20 – 2.50. With one
    # decimal the pack read "2,4 (2,2 – 2,5)" where the dashboard shows 2,35, and an objective "≤ 2,4" looked met.
    survey = make_survey(kind="ces", owner=qm)
    for score in [2] * 26 + [3] * 14:
        make_response(survey, score, at=timezone.now() - timedelta(minutes=5))
    rollup_refresh()
    review = new_review(qm)
    html = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    table = html[html.index('data-testid="review-satisfaction"') :].split("</table>")[0]
    assert "2,35 (2,20 – 2,50), n = 40" in table
    assert ": 2,35 (n = 40)" in html  # the month's figure


def test_a_detractor_share_below_the_minimum_n_is_not_enough_responses_as_on_the_dashboard(qm, qm_client, settings):
    settings.REPORTS_MIN_N = 30
    survey = make_survey(kind="nps", owner=qm)
    for score in [2, 3, 10]:  # n = 3: 67 % detractors, with an interval from 21 % to 94 %
        make_response(survey, score, at=timezone.now() - timedelta(minutes=5))
    rollup_refresh()
    review = new_review(qm)
    html = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    table = html[html.index('data-testid="review-satisfaction"') :].split("</table>")[0]
    cells = table.split("<td>")[1:]
    assert cells[3].startswith("chưa đủ câu trả lời (n = 3)"), cells[3]
    assert review_inputs(review)["satisfaction"][0]["detractor_share"]["enough"] is False


def test_the_pack_and_its_page_say_which_detractors_they_count(qm, data, qm_client):
    # "Detractors" in the pack is the standard NPS band (0–6), whatever the survey's closed-loop threshold; the
    # pack says so once, as the dashboard and the corrective action's page do.
    review = new_review(qm)
    page = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    pdf = qm_client.get(reverse("review_pdf", args=[review.pk]))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Người phản đối: NPS 0–6, CSAT 1–2, CES 6–7" in page
    assert "Người phản đối: NPS 0–6, CSAT 1–2, CES 6–7" in text
    dashboard = qm_client.get(reverse("dashboard"), {"survey": data.pk}).content.decode()
    assert "Người phản đối: NPS 0–6, CSAT 1–2, CES 6–7" in dashboard


def test_the_previous_period_is_the_dashboards_the_same_calendar_months_before(qm, qm_client):
    # A review of Q1 2026 (1 January – 31 March, 90 days). The dashboard's "previous period" is October – December
    # 2025; the pack took the 90 days before, 3 October – 31 December, and left out 1 and 2 October: here the 20
    # detractors answered then, so the pack read NPS 100 before (n = 20) where the dashboard reads 0 (n = 40).
    from reports.dashboard import Filters, dashboard_build

    survey = make_survey(kind="nps", owner=qm)
    tz = timezone.get_current_timezone()
    for day, scores in ((date(2025, 10, 1), [2] * 20), (date(2025, 11, 15), [10] * 20), (date(2026, 2, 10), [10] * 40)):
        for score in scores:
            make_response(survey, score, at=timezone.datetime(day.year, day.month, day.day, 9, tzinfo=tz))
    rollup_refresh()
    review = new_review(qm, period_start=date(2026, 1, 1), period_end=date(2026, 3, 31))
    (row,) = review_inputs(review)["satisfaction"]
    board = dashboard_build(Filters(survey=survey, start=date(2026, 1, 1), end=date(2026, 3, 31)))
    assert board.previous_range == (date(2025, 10, 1), date(2025, 12, 31))
    assert row["before"]["n"] == board.previous_total.n == 40
    assert row["before"]["value"] == pytest.approx(board.previous_total.value) == 0.0
    assert row["change"]["p_value"] == pytest.approx(board.change.p_value)
    html = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    assert "Kỳ trước: 01/10/2025 – 31/12/2025 (cùng số tháng dương lịch liền trước)" in html
    # A range that is not whole months is compared with as many days just before, as the dashboard by week does
    # (by month it would jump back whole months and leave a gap): 15 January – 20 February (37 days) against
    # 9 December – 14 January.
    odd = new_review(qm, period_start=date(2026, 1, 15), period_end=date(2026, 2, 20))
    assert review_inputs(odd)["previous_period"] == ["2025-12-09", "2026-01-14"]
    weekly = Filters(survey=survey, start=date(2026, 1, 15), end=date(2026, 2, 20), granularity="week")
    assert weekly.previous == (date(2025, 12, 9), date(2026, 1, 14))


def test_no_change_is_called_significant_beside_a_figure_below_the_minimum_n(qm, qm_client, settings):
    # 40 promoters last period, 3 detractors now: the exact test calls NPS 100 → −100 significant (p < 0.001), but
    # "now" reads "not enough responses (n = 3)". The dashboard shows no change then; the pack printed
    # "−200,0 (significant, p < 0,001)" beside it.
    settings.REPORTS_MIN_N = 30
    survey = make_survey(kind="nps", owner=qm)
    tz = timezone.get_current_timezone()
    for day, scores in ((date(2025, 12, 10), [10] * 40), (date(2026, 2, 10), [2] * 3)):
        for score in scores:
            make_response(survey, score, at=timezone.datetime(day.year, day.month, day.day, 9, tzinfo=tz))
    rollup_refresh()
    review = new_review(qm, period_start=date(2026, 1, 1), period_end=date(2026, 3, 31))
    (row,) = review_inputs(review)["satisfaction"]
    assert row["change"]["significant"] and not row["now"]["enough"] and row["before"]["enough"]
    html = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    table = html[html.index('data-testid="review-satisfaction"') :].split("</table>")[0]
    cells = table.split("<td>")[1:]
    assert cells[0].startswith("chưa đủ câu trả lời (n = 3)") and cells[2].startswith("chưa đủ câu trả lời (n = 3)")
    assert "có ý nghĩa" not in table, cells[2]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_theme_change_is_called_significant_beside_a_share_below_the_minimum_n(qm, settings, language):
    # A theme in 2 of 3 comments now and 0 of 40 before: the two-proportion test calls that significant, but "now"
    # reads "not enough responses (n = 3)"; the pack printed "+66,7 (significant, …)" beside it.
    from django.utils import translation

    from reports.pack import pack_view
    from reports.review import _estimate
    from reports.stats import share_estimate

    settings.REPORTS_MIN_N = 30
    review = new_review(qm, period_start=date(2026, 1, 1), period_end=date(2026, 3, 31))
    inputs = review_inputs(review)
    inputs["themes"] = [
        {
            "vi": "Giao hàng",
            "en": "Delivery",
            "now": _estimate(share_estimate(2, 3, min_n=30)),
            "before": _estimate(share_estimate(0, 40, min_n=30)),
            "change": {"difference": 66.7, "p_value": 0.004, "significant": True},
        }
    ]
    with translation.override(language):
        (theme,) = pack_view(review, inputs, language)["themes"]
        expected = translation.gettext("not enough responses (n = %(n)s)") % {"n": 3}
    assert theme["change"] == expected and "66" not in theme["change"]
