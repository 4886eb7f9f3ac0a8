import re

import pytest
from django.test import Client
from django.urls import reverse

from surveys import building
from surveys.models import Answer, Invitation, Response
from surveys.signals import response_submitted
from tests.factories import CustomerFactory, expire, make_invitation, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def invite():
    invitation, token = make_invitation(language="vi")
    questions = list(invitation.survey.current_version.questions.order_by("position"))
    return invitation, token, questions


def url(token):
    return reverse("respond", args=[token])


def test_link_opens_the_survey_in_the_customers_language(client, invite):
    invitation, token, questions = invite
    page = client.get(url(token))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="vi">' in html
    assert questions[0].text_vi in html
    assert "Gửi câu trả lời" in html  # the submit button, translated
    assert page["Content-Language"] == "vi"


def test_language_switch_shows_english(client, invite):
    _invitation, token, questions = invite
    html = client.get(url(token) + "?lang=en").content.decode()
    assert '<html lang="en">' in html and questions[0].text_en in html and "Send my answers" in html


def test_the_language_switch_keeps_what_was_typed_and_records_nothing(client, invite):
    # The switch was two links: a customer who had typed a comment and picked a score, then chose English, got an
    # empty form. It now sends the form (no script needed) and the page comes back in English with the answers.
    invitation, token, questions = invite
    page = client.get(url(token))
    html = page.content.decode()
    assert re.search(r'<button type="submit" form="answers" name="switch" value="en"[^>]*formnovalidate', html)
    assert '<form method="post" action="' in html and 'id="answers"' in html
    switched = client.post(
        url(token), {"lang": "vi", "switch": "en", f"q{questions[0].pk}": "9", f"q{questions[1].pk}": "Giao nhanh"}
    )
    html = switched.content.decode()
    assert switched.status_code == 200 and '<html lang="en">' in html and questions[0].text_en in html
    assert f'name="q{questions[0].pk}" value="9" checked' in html and ">Giao nhanh</textarea>" in html
    assert '<input type="hidden" name="lang" value="en">' in html
    assert 'role="alert"' not in html  # not a failed submission: nothing is marked as missing
    assert Response.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.answered_at is None
    # Switching with nothing chosen yet does not complain about the required score either.
    empty = client.post(url(token), {"lang": "en", "switch": "vi"}).content.decode()
    assert '<html lang="vi">' in empty and 'role="alert"' not in empty
    # The next send stores the answers in the language the customer switched to.
    done = client.post(url(token), {"lang": "en", f"q{questions[0].pk}": "9", f"q{questions[1].pk}": "Giao nhanh"})
    assert done.status_code == 302 and Response.objects.get().language == "en"


def test_english_customer_gets_english_by_default(client):
    _invitation, token = make_invitation(language="en")
    assert '<html lang="en">' in client.get(url(token)).content.decode()


def test_each_scale_is_a_labelled_radio_group_in_a_fieldset(client, invite):
    _invitation, token, questions = invite
    html = client.get(url(token)).content.decode()
    qid = questions[0].pk
    fieldset = re.search(rf'<fieldset[^>]*id="q{qid}".*?</fieldset>', html, re.S).group(0)
    assert "<legend" in fieldset
    radios = re.findall(rf'<label class="pt"><input type="radio" name="q{qid}" value="(\d+)"', fieldset)
    assert radios == [str(v) for v in range(11)]
    assert f'for="q{questions[1].pk}-input"' in html  # the comment box has a label


def test_score_in_the_link_prefills_but_get_records_nothing(client, invite):
    invitation, token, questions = invite
    html = client.get(url(token) + "?score=9").content.decode()
    assert f'name="q{questions[0].pk}" value="9" checked' in html
    assert Response.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_valid_post_stores_one_response_with_its_answers(client, invite, django_capture_on_commit_callbacks):
    invitation, token, questions = invite
    received = []
    response_submitted.connect(
        lambda sender, response, **kw: received.append(response), weak=False, dispatch_uid="test"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post(
                url(token), {f"q{questions[0].pk}": "4", f"q{questions[1].pk}": "Giao hàng trễ", "lang": "vi"}
            )
    finally:
        response_submitted.disconnect(dispatch_uid="test")
    assert page.status_code == 302 and page["Location"].startswith(url(token) + "thanks/")
    response = Response.objects.get()
    assert response.invitation == invitation and response.customer == invitation.customer
    assert response.version == invitation.survey.current_version and response.language == "vi"
    assert {(a.question_id, a.number, a.text) for a in Answer.objects.all()} == {
        (questions[0].pk, 4, ""),
        (questions[1].pk, None, "Giao hàng trễ"),
    }
    invitation.refresh_from_db()
    assert invitation.answered_at is not None
    assert received == [response]
    thanks = client.get(page["Location"])
    assert "Cảm ơn" in thanks.content.decode()


def test_invalid_post_reshows_the_answers_with_errors_and_stores_nothing(client, invite):
    _invitation, token, questions = invite
    page = client.post(url(token), {f"q{questions[0].pk}": "12", f"q{questions[1].pk}": "Ý kiến <b>của</b> tôi"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'role="alert"' in html
    assert "Hãy chọn một giá trị từ 0 đến 10." in html
    assert "Ý kiến &lt;b&gt;của&lt;/b&gt; tôi</textarea>" in html  # kept, escaped
    assert 'aria-invalid="true"' not in html.split(f'id="q{questions[1].pk}"')[1][:400]
    assert Response.objects.count() == 0


def test_missing_required_answer_keeps_the_others(client, invite):
    _invitation, token, questions = invite
    html = client.post(url(token), {f"q{questions[1].pk}": "Chậm"}).content.decode()
    assert "Vui lòng trả lời câu hỏi này." in html and ">Chậm</textarea>" in html
    assert Response.objects.count() == 0


def test_too_long_text_is_refused_and_kept(client, invite):
    _invitation, token, questions = invite
    text = "x" * 5001
    page = client.post(url(token), {f"q{questions[0].pk}": "7", f"q{questions[1].pk}": text})
    assert page.status_code == 400
    html = page.content.decode()
    assert text in html and f'name="q{questions[0].pk}" value="7" checked' in html
    assert Response.objects.count() == 0


def test_second_post_makes_no_second_response_and_shows_thanks(client, invite):
    _invitation, token, questions = invite
    data = {f"q{questions[0].pk}": "10"}
    first = client.post(url(token), data)
    second = client.post(url(token), {f"q{questions[0].pk}": "0"})
    assert first.status_code == second.status_code == 302
    assert second["Location"].startswith(url(token) + "thanks/")
    assert Response.objects.count() == 1
    assert Answer.objects.get(question=questions[0]).number == 10


def test_answered_link_shows_that_the_answer_was_recorded(client, invite):
    _invitation, token, questions = invite
    client.post(url(token), {f"q{questions[0].pk}": "10"})
    page = client.get(url(token))
    assert page.status_code == 200
    assert "đã được ghi nhận" in page.content.decode()
    assert "<form" not in page.content.decode()


def _unavailable_page(client, token):
    page = client.get(url(token), HTTP_ACCEPT_LANGUAGE="vi")
    return page.status_code, page.content.decode()


def test_bad_expired_and_closed_links_get_one_identical_page(client):
    invitation, expired_token = make_invitation()
    expire(invitation)
    survey = make_survey()
    _inv2, closed_token = make_invitation(survey=survey)
    building.survey_close(survey=survey)
    draft = make_survey()
    _inv3, draft_token = make_invitation(survey=draft)
    draft.status = "draft"
    draft.save()
    pages = {
        name: _unavailable_page(client, token)
        for name, token in [
            ("bad", "x" * 43),
            ("short", "abc"),
            ("expired", expired_token),
            ("closed", closed_token),
            ("draft", draft_token),
            ("huge", "y" * 500),
        ]
    }
    assert {status for status, _html in pages.values()} == {404}
    assert len({html for _status, html in pages.values()}) == 1
    assert "Không thể sử dụng liên kết này" in pages["bad"][1]
    # Posting to such a link stores nothing either.
    assert client.post(url(expired_token), {"q1": "5"}).status_code == 404
    assert Response.objects.count() == 0


def test_thanks_page_of_an_unanswered_link_is_the_unavailable_page(client, invite):
    _invitation, token, _questions = invite
    assert client.get(url(token) + "thanks/").status_code == 404


def test_only_the_tokens_hash_is_stored(invite):
    invitation, token, _questions = invite
    assert len(token) >= 43
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in str(stored)
    assert stored["token_hash"] != token and len(stored["token_hash"]) == 64


def test_respondent_page_makes_no_third_party_request_and_has_a_strict_policy(client, invite):
    _invitation, token, _questions = invite
    page = client.get(url(token))
    html = page.content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert page["Cache-Control"] == "private, no-store"


def test_other_survey_kinds_render_their_scales(client):
    for kind, values in [("csat", range(1, 6)), ("ces", range(1, 8))]:
        survey = make_survey(kind=kind)
        _inv, token = make_invitation(survey=survey, customer=CustomerFactory())
        html = client.get(url(token)).content.decode()
        qid = survey.current_version.questions.order_by("position").first().pk
        assert re.findall(rf'name="q{qid}" value="(\d+)"', html) == [str(v) for v in values]


@pytest.mark.parametrize("prepared", [True, False])
def test_every_question_kind_is_stored_as_answered(client, settings, prepared):
    settings.DB_PREPARED_STATEMENTS = prepared
    survey = make_survey(kind="csat", active=False)
    version = survey.current_version
    building.question_add(
        version=version,
        kind="single",
        text_en="Channel",
        text_vi="Kênh",
        choices=[{"en": "Web", "vi": "Web"}, {"en": "Phone", "vi": "Điện thoại"}],
    )
    building.question_add(
        version=version,
        kind="multi",
        text_en="Topics",
        text_vi="Chủ đề",
        required=False,
        choices=[{"en": "A", "vi": "A"}, {"en": "B", "vi": "B"}, {"en": "C", "vi": "C"}],
    )
    building.question_add(version=version, kind="rating", text_en="Rate", text_vi="Chấm", scale_min=1, scale_max=10)
    building.survey_activate(survey=survey)
    _inv, token = make_invitation(survey=survey)
    csat, comment, single, multi, rating = version.questions.order_by("position")
    page = client.post(
        url(token),
        {
            f"q{csat.pk}": "5",
            f"q{comment.pk}": "Tốt lắm",
            f"q{single.pk}": "1",
            f"q{multi.pk}": ["0", "2"],
            f"q{rating.pk}": "10",
        },
    )
    assert page.status_code == 302
    stored = {a.question_id: (a.number, a.text, a.choices) for a in Answer.objects.all()}
    assert stored == {
        csat.pk: (5, "", None),
        comment.pk: (None, "Tốt lắm", None),
        single.pk: (1, "", None),
        multi.pk: (None, "", [0, 2]),
        rating.pk: (10, "", None),
    }
    response = Response.objects.get()
    assert response.version == version


def test_question_edits_reach_the_respondent_page_at_once(client):
    survey = make_survey(active=True)
    _inv, token = make_invitation(survey=survey)
    question = survey.current_version.questions.order_by("position").first()
    assert "Bạn có sẵn lòng giới thiệu" in client.get(url(token)).content.decode()  # now cached
    building.question_update(question=question, kind="nps", text_en="New", text_vi="Câu hỏi đã sửa", required=True)
    assert "Câu hỏi đã sửa" in client.get(url(token)).content.decode()


def test_the_respondent_page_is_compressed_for_clients_that_accept_it(client, invite):
    """The README's figures: the page's HTML and stylesheet on the wire. Checked here, so the README cannot drift."""
    import gzip
    from pathlib import Path

    _invitation, token, _questions = invite
    plain = client.get(url(token))
    packed = client.get(url(token), HTTP_ACCEPT_ENCODING="gzip, br")
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert b"<form" in gzip.decompress(packed.content)
    assert 2_000 < len(plain.content) < 3_500 and len(packed.content) < 1_400, (len(plain.content), len(packed.content))
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "respond.css").read_bytes()
    assert len(css) < 4_000 and len(gzip.compress(css)) < 1_400
