import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from feedback.models import ComplaintCase
from surveys.models import Answer, Response
from surveys.public import public_link_enable
from tests.factories import make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def survey():
    survey = make_survey(kind="csat")
    return public_link_enable(survey=survey)


def url(survey):
    return reverse("respond_public", args=[survey.public_key])


def post(client, survey, **fields):
    q1, q2 = survey.current_version.questions.order_by("position")
    data = {"lang": "vi", f"q{q1.pk}": fields.pop("score", "5")}
    if "comment" in fields:
        data[f"q{q2.pk}"] = fields.pop("comment")
    data.update(fields)
    return client.post(url(survey), data)


def test_anonymous_answer_through_the_public_link(survey):
    client = Client()
    page = client.get(url(survey), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Your email, if you would like us to get back to you" in page.content.decode()
    done = post(client, survey, score="4")
    assert done.status_code == 302 and done["Location"].startswith(url(survey) + "thanks/")
    response = Response.objects.get()
    assert response.invitation is None and response.customer is None
    assert Answer.objects.get(response=response, question__kind="csat").number == 4


def test_an_email_is_confirmed_before_the_answer_joins_the_customer_and_their_case(
    survey, django_capture_on_commit_callbacks, mailoutbox
):
    import re

    with django_capture_on_commit_callbacks(execute=True):
        post(Client(), survey, score="1", comment="Quầy thu ngân quá chậm", email="Hoa@Example.com")
    # Stored anonymous; the case is opened without a contact; the only mail is the confirmation request.
    assert Response.objects.get().customer is None and not Customer.objects.exists()
    case = ComplaintCase.objects.get()
    assert case.customer is None and "Quầy thu ngân quá chậm" in case.description
    assert [m.to for m in mailoutbox] == [["hoa@example.com"]]
    link = re.search(r"https?://\S+/confirm/(\S+)/", mailoutbox[0].body)
    assert mailoutbox[0].message()["Auto-Submitted"] == "auto-generated"  # RFC 3834: no auto-reply to it
    confirm = reverse("contact_confirm", args=[link.group(1)])
    # Opening the link (a mail scanner does) changes nothing; pressing the button confirms.
    assert "Có, xác nhận" in Client().get(confirm).content.decode()
    assert Response.objects.get().customer is None
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post(confirm).status_code == 200
    customer = Customer.objects.get(email="hoa@example.com")
    assert Response.objects.get().customer == customer
    case.refresh_from_db()
    assert case.customer == customer
    assert any(case.reference in m.subject for m in mailoutbox[1:])  # the acknowledgement, now that it is theirs


def test_bad_email_is_explained_and_answers_kept(survey):
    page = post(Client(), survey, score="2", comment="Ý kiến", email="not-an-email")
    html = page.content.decode()
    assert page.status_code == 400 and "Đây không phải là địa chỉ email" in html
    assert 'value="2" checked' in html and "Ý kiến</textarea>" in html
    assert Response.objects.count() == 0


def test_a_wrong_email_is_in_the_error_summary_that_a_screen_reader_announces(survey):
    # The summary (role="alert") counted only the questions: with the score given and the email wrong there was no
    # summary at all, only a red line far down the page; with both wrong it said "the answer" and left the email out.
    q1, _q2 = survey.current_version.questions.order_by("position")
    alone = post(Client(), survey, score="4", email="abc@", lang="en").content.decode()
    summary = re.search(r'<div class="errors" role="alert".*?</div>', alone, re.S)
    assert summary and "Please check the answer marked below." in summary.group(0)
    assert '<a href="#email-input">Your email, if you would like us to get back to you</a>' in summary.group(0)
    both = Client().post(url(survey), {"lang": "en", "email": "abc@"}).content.decode()
    summary = re.search(r'<div class="errors" role="alert".*?</div>', both, re.S).group(0)
    assert "Please check the 2 answers marked below." in summary and f'href="#q{q1.pk}"' in summary
    assert 'href="#email-input"' in summary


def test_rate_limited_per_client(survey, settings):
    settings.PUBLIC_LINK_RATE_PER_HOUR = 2
    client = Client()
    assert post(client, survey).status_code == 302
    assert post(client, survey).status_code == 302
    limited = post(client, survey, score="3")
    assert limited.status_code == 429 and 'value="3" checked' in limited.content.decode()
    assert Response.objects.count() == 2


def test_turning_the_link_off_and_closed_surveys(survey, qm_client):
    key = survey.public_key
    qm_client.post(reverse("survey_public_link", args=[survey.pk]))
    assert Client().get(reverse("respond_public", args=[key])).status_code == 404
    qm_client.post(reverse("survey_public_link", args=[survey.pk]), {"enable": "1"})
    survey.refresh_from_db()
    assert survey.public_key and survey.public_key != key
    qr = qm_client.get(reverse("survey_qr", args=[survey.pk])).content.decode()
    assert 'src="data:image/svg+xml' in qr and survey.public_key in qr
    survey.status = "closed"
    survey.save()
    assert Client().get(url(survey)).status_code == 404


def _as_a_browser_posts(client, page, data):
    # Under "no-referrer" Chromium and Firefox send a form's POST with `Origin: null` (Fetch, "serializing a request
    # origin"), which Django's CSRF check refuses; under "same-origin" they send the page's own origin.
    origin = "null" if page["Referrer-Policy"] == "no-referrer" else "http://testserver"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(page.wsgi_request.path, {**data, "csrfmiddlewaretoken": token}, HTTP_ORIGIN=origin)


def test_a_browser_can_send_the_public_form_which_keeps_its_url_on_this_site(survey):
    # The public link's page answered every browser's post with "The form has expired" (403): the answer was lost.
    client = Client(enforce_csrf_checks=True)
    q1, _q2 = survey.current_version.questions.order_by("position")
    page = client.get(url(survey))
    again = _as_a_browser_posts(client, page, {"lang": "vi", f"q{q1.pk}": "5", "email": "not-an-address"})
    assert again.status_code == 400, again.status_code
    done = _as_a_browser_posts(client, again, {"lang": "vi", f"q{q1.pk}": "5"})
    assert done.status_code == 302 and Response.objects.count() == 1
    # The page's URL holds only the survey's public key (printed on posters), never a customer's token.
    assert page["Referrer-Policy"] == again["Referrer-Policy"] == "same-origin"


def test_the_language_switch_of_the_public_link_keeps_the_answers_and_the_email(survey):
    client = Client()
    q1, q2 = survey.current_version.questions.order_by("position")
    switched = client.post(
        url(survey), {"lang": "vi", "switch": "en", f"q{q1.pk}": "4", f"q{q2.pk}": "Tốt", "email": "lan@example"}
    )
    html = switched.content.decode()
    assert switched.status_code == 200 and '<html lang="en">' in html
    assert f'name="q{q1.pk}" value="4" checked' in html and ">Tốt</textarea>" in html and 'value="lan@example"' in html
    assert 'role="alert"' not in html and "This is not an email address" not in html
    assert Response.objects.count() == 0
