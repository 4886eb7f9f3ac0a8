"""Follow-up questions that depend on the score: one page, with or without JavaScript, no extra queries."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys import building
from surveys.models import Answer, Response
from surveys.scoring import QuestionKind
from tests.factories import make_invitation, make_survey

pytestmark = pytest.mark.django_db


def _with_follow_ups(survey):
    version = survey.current_version
    text = QuestionKind.TEXT
    improve = building.question_add(
        version=version, kind=text, text_en="What should we improve?", text_vi="Chúng tôi nên cải thiện gì?",
        required=True, show_if_min=0, show_if_max=6,
    )  # fmt: skip
    liked = building.question_add(
        version=version, kind=text, text_en="What did you like most?", text_vi="Bạn thích điều gì nhất?",
        required=False, show_if_min=9, show_if_max=10,
    )  # fmt: skip
    return improve, liked


@pytest.fixture
def survey():
    survey = make_survey(kind="nps", with_comment=False)
    survey.status = "draft"
    survey.save()
    _with_follow_ups(survey)
    building.survey_activate(survey=survey)
    return survey


def test_a_follow_up_needs_a_score_above_it_and_a_range_on_its_scale():
    survey = make_survey(kind="nps", active=False, with_comment=False)
    version = survey.current_version
    headline = version.questions.get()
    with pytest.raises(ValidationError, match="từ 0 đến 10"):
        building.question_add(version=version, kind="text", text_en="x", text_vi="x", show_if_min=5, show_if_max=11)
    with pytest.raises(ValidationError, match="từ 0 đến 10"):
        building.question_add(version=version, kind="text", text_en="x", text_vi="x", show_if_min=7, show_if_max=None)
    follow = building.question_add(version=version, kind="text", text_en="x", text_vi="x", show_if_min=0, show_if_max=6)
    building.question_move(question=follow, direction="up")
    headline.refresh_from_db()
    with pytest.raises(ValidationError, match="câu hỏi chấm điểm"):
        building.question_update(
            question=version.questions.get(position=1), kind="text", text_en="x", text_vi="x", required=True,
            show_if_min=0, show_if_max=6,
        )  # fmt: skip
    # A new version keeps the rule.
    copy = building.survey_new_version(survey=survey)
    assert copy.questions.get(kind="text").show_if_max == 6


def test_without_javascript_the_server_asks_the_follow_up_after_the_score(survey):
    invitation, token = make_invitation(survey=survey)
    headline, improve, liked = survey.current_version.questions.order_by("position")
    client, url = Client(), reverse("respond", args=[token])
    page = client.get(url).content.decode()
    # Both follow-ups are on the page, hidden until a score calls for one (respond.js shows them live).
    assert page.count(" hidden>") == 2 and 'name="fu" value=""' in page and "js/respond.js" in page
    first = client.post(url, {"lang": "vi", f"q{headline.pk}": "3", "fu": ""})
    html = first.content.decode()
    assert first.status_code == 200 and Response.objects.count() == 0
    assert "Còn một câu hỏi bên dưới" in html and "Chúng tôi nên cải thiện gì?" in html
    assert f'name="fu" value="{improve.pk}"' in html and 'value="3" checked' in html
    assert html.count(" hidden>") == 1  # the promoters' question stays hidden
    # It is required for a detractor, so an empty answer now gets the usual message.
    empty = client.post(url, {"lang": "vi", f"q{headline.pk}": "3", "fu": str(improve.pk)})
    assert empty.status_code == 400 and "Vui lòng trả lời câu hỏi này." in empty.content.decode()
    done = client.post(
        url, {"lang": "vi", f"q{headline.pk}": "3", "fu": str(improve.pk), f"q{improve.pk}": "Giao hàng chậm"}
    )
    assert done.status_code == 302
    answers = dict(Answer.objects.values_list("question_id", "text"))
    assert answers == {headline.pk: "", improve.pk: "Giao hàng chậm"}


def test_with_javascript_and_from_an_email_score_the_follow_up_is_there_at_once(survey):
    headline, improve, liked = survey.current_version.questions.order_by("position")
    invitation, token = make_invitation(survey=survey)
    client, url = Client(), reverse("respond", args=[token])
    page = client.get(url + "?score=10").content.decode()
    assert f'name="fu" value="{liked.pk}"' in page and page.count(" hidden>") == 1
    # The script marks the form "js": what it showed was seen; an answer to a question the score does not call
    # for (typed, then the score changed) is dropped.
    done = client.post(
        url, {"lang": "vi", f"q{headline.pk}": "10", "fu": "js", f"q{liked.pk}": "Nhanh", f"q{improve.pk}": "x"}
    )
    assert done.status_code == 302
    assert dict(Answer.objects.values_list("question_id", "text")) == {headline.pk: "", liked.pk: "Nhanh"}
    # A passive (7–8) gets neither follow-up and is stored at once, without JavaScript too.
    _invitation, other = make_invitation(survey=survey)
    assert Client().post(reverse("respond", args=[other]), {"lang": "vi", f"q{headline.pk}": "8"}).status_code == 302


def test_follow_ups_add_no_query_to_the_respondent_page(survey):
    plain = make_survey(kind="nps")
    counts = []
    for each in (plain, survey):
        headline = each.current_version.questions.order_by("position").first()
        _invitation, token = make_invitation(survey=each)
        client, url = Client(), reverse("respond", args=[token])
        client.get(url)  # warms the survey's cached snapshot, as every later visitor finds it
        _invitation, token = make_invitation(survey=each)
        url = reverse("respond", args=[token])
        with CaptureQueriesContext(connection) as get:
            client.get(url)
        with CaptureQueriesContext(connection) as post:
            client.post(url, {"lang": "vi", f"q{headline.pk}": "8", "fu": "js"})
        counts.append((len(get), len(post)))
    assert counts[0] == counts[1], counts
