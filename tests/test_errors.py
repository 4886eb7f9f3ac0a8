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
