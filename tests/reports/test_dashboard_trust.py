"""Figures a quality manager can trust: the dashboard never fails, and each figure measures one thing."""

import json
import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from reports import dashboard
from reports.models import DailyRollup, InvitationRollup
from reports.rollup import rollup_rebuild, rollup_refresh
from surveys import building, public
from surveys.models import Answer, Response
from tests.factories import CustomerFactory, make_invitation, make_response, make_survey

pytestmark = pytest.mark.django_db
URL = reverse("dashboard")


def answer_link(token: str, question, score: int) -> None:
    """Answer a link as a customer does: the real respondent page."""
    page = Client().post(reverse("respond", args=[token]), {f"q{question.pk}": str(score)})
    assert page.status_code in (200, 302), page.status_code


def test_a_link_handed_out_by_hand_and_answered_keeps_the_dashboard_up(qm_client):
    # The demo's link: made by hand, never emailed, answered. It was counted as answered but never as sent, so the
    # response-rate interval took the square root of a negative number on every later visit.
    survey = make_survey(kind="nps")
    headline = survey.current_version.questions.order_by("position").first()
    for _ in range(2):
        _invitation, token = make_invitation(survey=survey)
        answer_link(token, headline, 9)
    rollup_refresh()
    for query in ({}, {"survey": survey.pk}):
        page = qm_client.get(URL, query)
        assert page.status_code == 200
        html = page.content.decode()
        funnel = html[html.index('data-testid="funnel-text"') :]
        assert "Email: đã mời 0 → đã gửi 0 → đã mở 0 → đã trả lời 0" in funnel
        assert "Liên kết trao tay (hiển thị một lần, in ra): 2 → đã trả lời 2" in funnel
    # Stored with the response: how it was answered, and the customer's segment at the time.
    assert set(Response.objects.values_list("channel", flat=True)) == {"link"}
    row = InvitationRollup.objects.get()
    assert (row.channel, row.delivered, row.answered) == ("link", 2, 2)


def test_old_rollups_with_more_answered_than_sent_say_so_instead_of_failing(qm_client):
    survey = make_survey(kind="nps")
    make_response(survey, 10)
    rollup_refresh()
    InvitationRollup.objects.create(
        survey=survey, day=timezone.localdate(), channel="email", invited=2, delivered=0, answered=2
    )
    page = qm_client.get(URL, {"survey": survey.pk})
    assert page.status_code == 200
    assert "Không có số liệu: các số đếm không khớp" in page.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01", "end": "9999-12-31"},
        {"start": "9999-12-31"},
        {"end": "0001-01-01"},
        {"survey": "9" * 30},
        {"survey": "abc"},
        {"survey": "-1"},
        {"survey": "١"},  # an Arabic-Indic digit: isdigit() says yes, a database id it is not
        {"granularity": "9" * 30},
        {"baseline_start": "2026-01-01"},
        {"baseline_start": "2026-05-01", "baseline_end": "2026-01-01"},
        {"baseline_start": "0001-01-01", "baseline_end": "9999-12-31"},
        {"page": "9" * 30},
        {"page": "-5"},
    ],
)
def test_absurd_filters_get_a_clear_message_never_a_500(qm_client, query):
    survey = make_survey(kind="nps")
    for score in [10] * 40:
        make_response(survey, score)
    rollup_refresh()
    page = qm_client.get(URL, query)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="kpi-headline">100,0<' in html  # the defaults still show the data
    if set(query) - {"page"}:
        assert "Một số bộ lọc không hợp lệ" in html


def test_a_nul_character_in_a_filter_is_the_plain_400_page_in_the_readers_language(qm_client):
    # PostgreSQL refuses NUL in any query: every page answers it before any lookup (config/middleware.py).
    make_survey(kind="nps")
    page = qm_client.get(URL, {"segment": "\x00"})
    assert page.status_code == 400
    assert "Không thể xử lý yêu cầu" in page.content.decode()


def test_out_of_range_dates_are_refused_with_the_reason(qm_client):
    make_survey(kind="nps")
    html = qm_client.get(URL, {"start": "0001-01-01", "end": "9999-12-31"}).content.decode()
    assert html.count("Hãy chọn một ngày từ năm 2000 đến một năm kể từ hôm nay.") == 2


def test_two_questions_of_the_headline_kind_are_never_pooled(qm_client, qm):
    # 40 responses answer 10 on the first NPS question and 0 on the second. Pooled, that read n = 80, NPS 0. The
    # headline is the first: NPS (40 − 0)/40 = 100 with n = 40; the second shows on its own: (0 − 40)/40 = −100.
    survey = building.survey_create(owner=qm, kind="nps", title_en="Two", title_vi="Hai", with_comment=False)
    first = survey.current_version.questions.get()
    second = building.question_add(
        version=survey.current_version, kind="nps", text_en="And us?", text_vi="Còn chúng tôi?"
    )
    building.survey_activate(survey=survey)
    for _ in range(40):
        response = make_response(survey, 10)
        Answer.objects.create(response=response, question=second, number=0)
    rollup_refresh()
    html = qm_client.get(URL, {"survey": survey.pk}).content.decode()
    assert 'data-testid="kpi-headline">100,0<' in html and "n = 80" not in html
    others = html[html.index('data-testid="other-questions"') :]
    assert "Còn chúng tôi?" in others and "<td>-100,0</td>" in others and "<td>40</td>" in others
    assert building.headline_question_ids(survey) == [first.pk]


def test_the_quality_manager_chooses_the_headline_in_the_builder(qm_client, qm):
    survey = building.survey_create(owner=qm, kind="nps", title_en="Two", title_vi="Hai", with_comment=False)
    second = building.question_add(
        version=survey.current_version, kind="nps", text_en="And us?", text_vi="Còn chúng tôi?"
    )
    detail = qm_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert detail.count('data-testid="headline-badge"') == 1 and "Đặt làm chỉ số chính" in detail
    qm_client.post(reverse("question_headline", args=[survey.pk, second.pk]))
    assert building.headline_question_ids(survey) == [second.pk]
    building.survey_activate(survey=survey)
    for _ in range(40):
        response = make_response(survey, 10)  # the first question by position
        Answer.objects.create(response=response, question=second, number=0)
    rollup_refresh()
    html = qm_client.get(URL, {"survey": survey.pk}).content.decode()
    assert 'data-testid="kpi-headline">-100,0<' in html
    # A new version keeps the choice.
    version = building.survey_new_version(survey=survey)
    assert version.questions.get(headline=True).text_en == "And us?"


def test_a_headline_must_be_of_the_surveys_kind(qm_client, qm):
    survey = make_survey(kind="nps", active=False)
    comment = survey.current_version.questions.get(kind="text")
    page = qm_client.post(reverse("question_headline", args=[survey.pk, comment.pk]), follow=True)
    assert "Chỉ một câu hỏi cùng loại với khảo sát mới có thể là chỉ số chính." in page.content.decode()
    assert not comment.__class__.objects.filter(headline=True).exists()


def test_a_deep_link_shows_the_view_that_is_drawn(qm_client):
    survey = make_survey(kind="nps")
    make_response(survey, 10)
    rollup_refresh()
    html = qm_client.get(URL, {"survey": survey.pk}).content.decode()
    select = html[html.index('name="granularity"') :]
    select = select[: select.index("</select>")]
    assert re.search(r'<option value="month" selected>', select)
    start = html[html.index('name="start"') :][:200]
    assert f'value="{dashboard.default_range()[0].isoformat()}"' in start


def test_previous_period_is_the_previous_calendar_months():
    survey = make_survey(kind="nps")
    quarter = dashboard.Filters(survey=survey, start=date(2026, 1, 1), end=date(2026, 3, 31), granularity="month")
    assert quarter.previous == (date(2025, 10, 1), date(2025, 12, 31))  # not the 90 days before 1 January
    february = dashboard.Filters(survey=survey, start=date(2026, 3, 1), end=date(2026, 3, 31), granularity="month")
    assert february.previous == (date(2026, 2, 1), date(2026, 2, 28))
    by_quarter = dashboard.Filters(survey=survey, start=date(2026, 4, 1), end=date(2026, 5, 15), granularity="quarter")
    assert by_quarter.previous == (date(2026, 1, 1), date(2026, 2, 15))
    weeks = dashboard.Filters(survey=survey, start=date(2026, 3, 2), end=date(2026, 3, 15), granularity="week")
    assert weeks.previous == (date(2026, 2, 16), date(2026, 3, 1))


def test_partial_periods_are_marked(qm_client):
    survey = make_survey(kind="nps")
    make_response(survey, 10)
    rollup_refresh()
    board = dashboard.dashboard_build(
        dashboard.Filters(survey=survey, start=date(2026, 1, 15), end=date(2026, 3, 31), granularity="month")
    )
    assert [(p["label"], p["partial"]) for p in board.periods] == [
        ("01/2026*", True),
        ("02/2026", False),
        ("03/2026", False),
    ]


def test_numbers_follow_the_page_language_charts_included(qm_client):
    survey = make_survey(kind="ces")
    customer = CustomerFactory(segment="retail")
    responses = [
        Response(survey=survey, version=survey.current_version, customer=customer, language="vi", segment="retail")
        for _ in range(5632)
    ]
    Response.objects.bulk_create(responses, batch_size=2000)
    question = survey.current_version.questions.get(kind="ces")
    stored = Response.objects.filter(survey=survey)
    Answer.objects.bulk_create(
        [Answer(response=r, question=question, number=2 + (i % 3 == 0)) for i, r in enumerate(stored)],
        batch_size=2000,
    )
    rollup_refresh()
    # Mean: 1,878 answers of 3 and 3,754 of 2 → (5634 + 7508)/5632 = 2.3335 → "2,33" with two decimals.
    vi = qm_client.get(URL).content.decode()
    assert 'data-testid="kpi-headline">2,33<' in vi and "n = 5.632" in vi
    assert '"separators": ",."' in vi
    qm_client.cookies["django_language"] = "en"
    en = qm_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="kpi-headline">2.33<' in en and "n = 5,632" in en
    assert '"separators": ".,"' in en


def test_segments_are_corrected_for_many_comparisons_and_small_ones_not_drawn(qm_client, settings):
    settings.REPORTS_MIN_N = 30
    survey = make_survey(kind="nps")
    # Six segments with the same mix (one promoter, one detractor, one passive in three): no segment effect.
    for name in ("a", "b", "c", "d", "e", "f"):
        customer = CustomerFactory(segment=name)
        for score in [10, 0, 8] * 14:
            make_response(survey, score, customer=customer)
    tiny = CustomerFactory(segment="tiny")
    for score in [10] * 5:
        make_response(survey, score, customer=tiny)
    rollup_refresh()
    page = qm_client.get(URL)
    html = page.content.decode()
    table = html[html.index('data-testid="segments"') :]
    assert "* khác biệt có ý nghĩa" not in table
    assert "(Holm)" in html
    figure = json.loads(
        re.search(r'<script id="fig-segments" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert "tiny" not in json.dumps(figure["data"][0]["y"])
    assert "tiny" in table  # listed, not drawn, not tested


def test_rollups_keep_the_segment_a_response_had_when_it_was_given():
    survey = make_survey(kind="nps")
    headline = survey.current_version.questions.order_by("position").first()
    customer = CustomerFactory(segment="retail")
    _invitation, token = make_invitation(survey=survey, customer=customer)
    answer_link(token, headline, 10)
    Customer.objects.filter(pk=customer.pk).update(segment="corporate")  # a later edit or re-import
    rollup_refresh()
    assert list(DailyRollup.objects.values_list("segment", "count")) == [("retail", 1)]
    rollup_rebuild()
    assert list(DailyRollup.objects.values_list("segment", "count")) == [("retail", 1)]


def test_public_answers_are_their_own_channel(qm_client):
    survey = make_survey(kind="nps")
    questions = list(survey.current_version.questions.order_by("position"))
    from surveys.responding import parse_answers

    answers = parse_answers(questions, {f"q{questions[0].pk}": "10"})
    public.response_submit_public(survey=survey, questions=questions, answers=answers, language="vi")
    rollup_refresh()
    assert Response.objects.get().channel == "public"
    html = qm_client.get(URL).content.decode()
    assert "Liên kết công khai hoặc mã QR: đã trả lời 1" in html


def test_export_of_the_dashboard_keeps_working_with_a_baseline(qm_client):
    survey = make_survey(kind="nps")
    with time_machine.travel(datetime(2026, 6, 15, 12, tzinfo=timezone.get_current_timezone())):
        for months_ago in range(6):
            at = timezone.now() - timedelta(days=30 * months_ago)
            for score in [10, 9, 0, 8] * 10:
                make_response(survey, score, at=at)
        rollup_refresh()
        html = qm_client.get(
            URL, {"survey": survey.pk, "baseline_start": "2026-01-01", "baseline_end": "2026-03-31"}
        ).content.decode()
    assert "Đường trung tâm và giới hạn tính từ các kỳ bạn chọn: 01/2026, 02/2026, 03/2026." in html
