import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from feedback.models import ComplaintCase
from feedback.notify import tracking_token
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


VALID = {"name": "Lê Thị Hoa", "email": "hoa@example.com", "description": "Hóa đơn bị tính sai", "lang": "vi"}


def test_public_complaint_creates_a_case_and_shows_its_tracking_page(mailoutbox, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("complaint_form"), VALID)
    case = ComplaintCase.objects.get()
    assert case.channel == "web_form" and case.contact_email == "hoa@example.com" and case.language == "vi"
    assert page.status_code == 302 and page["Location"].startswith("/c/")
    track = client.get(page["Location"]).content.decode()
    assert case.reference in track and "Đã tiếp nhận" in track
    assert len(mailoutbox) == 1 and case.reference in mailoutbox[0].subject


def test_bad_input_is_explained_and_kept():
    page = Client().post(
        reverse("complaint_form"), {"name": "Hoa", "description": "", "email": "not-mail", "lang": "vi"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert 'value="Hoa"' in html and 'aria-invalid="true"' in html
    assert ComplaintCase.objects.count() == 0


def test_a_way_to_answer_is_required():
    page = Client().post(reverse("complaint_form"), {"name": "Hoa", "description": "Sai", "lang": "en"})
    assert page.status_code == 400 and "email address or a phone number" in page.content.decode()


def test_the_honeypot_stores_nothing():
    page = Client().post(reverse("complaint_form"), {**VALID, "website": "http://spam.example"})
    assert page.status_code == 200 and ComplaintCase.objects.count() == 0


def test_rate_limit_per_client_keeps_what_was_typed(settings):
    settings.COMPLAINT_FORM_RATE_PER_HOUR = 2
    client = Client()
    for _ in range(2):
        assert client.post(reverse("complaint_form"), VALID).status_code == 302
    page = client.post(reverse("complaint_form"), {**VALID, "description": "Lần thứ ba"})
    assert page.status_code == 429 and "Lần thứ ba" in page.content.decode()
    assert ComplaintCase.objects.count() == 2


def test_tracking_link_cannot_be_forged_and_shows_messages_in_the_customers_language():
    from feedback import workflow

    case = workflow.case_create(channel="email", description="x", contact_email="a@example.com", language="en")
    workflow.case_transition(case=case, to_status="acknowledged", actor=staff_user())
    workflow.case_transition(case=case, to_status="rejected", actor=staff_user(), message="Not covered by warranty")
    client = Client()
    html = client.get(reverse("case_track", args=[tracking_token(case)])).content.decode()
    assert "Rejected" in html and "Not covered by warranty" in html and '<html lang="en">' in html
    assert client.get(reverse("case_track", args=["MQ:forged:signature"])).status_code == 404
    assert client.get(reverse("case_track", args=[tracking_token(case) + "x"])).status_code == 404


def test_the_complaint_form_can_be_posted_by_a_browser_and_keeps_its_url_on_this_site(client):
    # Under "no-referrer" a browser posts the form with `Origin: null` and the CSRF check refuses it (the browser
    # journey in tests/e2e/test_iso_journey.py sends it for real); the form's URL holds nothing personal.
    assert client.get("/complaint/")["Referrer-Policy"] == "same-origin"


def test_the_complaint_form_lets_a_phone_fill_in_the_customers_details_and_reads_its_hints(client):
    # On a phone the browser offers the customer's name, address and number (WCAG 1.3.5); a screen reader reads the
    # email field's hint with it, and the error and the hint together once the form comes back.
    html = client.get("/complaint/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert re.search(r'<input[^>]*name="name"[^>]*autocomplete="name"', html)
    assert re.search(r'<input[^>]*name="email"[^>]*autocomplete="email"[^>]*aria-describedby="id_email-help"', html)
    assert re.search(r'<input[^>]*name="phone"[^>]*autocomplete="tel"', html)
    assert '<p class="help" id="id_email-help">' in html
    again = client.post("/complaint/", {"name": "Lan", "email": "lan@", "description": "Máy hỏng"}).content.decode()
    assert re.search(r'name="email"[^>]*aria-invalid="true" aria-describedby="id_email-err id_email-help"', again)
