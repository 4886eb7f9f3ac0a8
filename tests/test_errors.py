"""Errors are plain pages in the visitor's language, never a stack trace."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_friendly_404(qm_client):
    page = qm_client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 404
    assert "Không tìm thấy trang" in page.content.decode()


def test_server_error_shows_a_plain_page(monkeypatch, settings):
    settings.DEBUG = False

    def broken(token):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("surveys.views.respond.link_for_token", broken)
    page = Client(raise_request_exception=False).get("/s/" + "a" * 43 + "/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 500
    html = page.content.decode()
    assert "Something went wrong" in html and "RuntimeError" not in html and "exploded" not in html


def test_a_stale_complaint_form_gets_a_page_in_the_customers_language(settings):
    # A complaint typed for too long, or sent from a browser that blocks cookies, fails the CSRF check: the customer
    # reads why in Vietnamese and can open the form again, not Django's English page that mentions DEBUG.
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    page = client.post("/complaint/", {"name": "Lê Văn Bình", "description": "Máy bị rò rỉ"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 403
    html = page.content.decode()
    assert '<html lang="vi">' in html
    assert "Biểu mẫu đã hết hạn" in html and 'href="/complaint/"' in html
    assert "CSRF" not in html and "DEBUG" not in html
    from feedback.models import ComplaintCase

    assert not ComplaintCase.objects.exists()


def test_a_stale_staff_form_links_back_to_the_page_it_was_on(qm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(qm)
    page = client.post("/surveys/1/activate/", HTTP_ACCEPT_LANGUAGE="en", HTTP_REFERER="http://testserver/surveys/1/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "This form has expired" in html and 'href="http://testserver/surveys/1/"' in html
    # A referer elsewhere is not offered as a link.
    page = client.post("/surveys/1/activate/", HTTP_REFERER="https://evil.example/x")
    assert "evil.example" not in page.content.decode()


def test_a_request_too_large_to_read_gets_a_plain_page_in_the_readers_language(settings):
    settings.DEBUG = False
    body = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    page = Client(raise_request_exception=False).post(
        "/complaint/", body, content_type="application/x-www-form-urlencoded", HTTP_ACCEPT_LANGUAGE="vi"
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Không thể xử lý yêu cầu" in html and "Bad Request" not in html


def test_an_unknown_host_gets_the_plain_400_page(settings):
    settings.DEBUG = False
    page = Client(raise_request_exception=False).get("/complaint/", HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "The request could not be read" in page.content.decode()
