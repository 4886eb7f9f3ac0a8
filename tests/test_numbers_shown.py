"""Counts and durations on staff pages and in messages are written as the reader's language writes them: Vietnamese
groups thousands with "." (12.345), English with "," (12,345). They were shown bare ("12345") or, built in Python,
always the English way."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

pytestmark = pytest.mark.django_db
GROUPED = {"vi": "12.345", "en": "12,345"}


def _cell(html: str, value: str) -> bool:
    return f">{value}</td>" in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_api_call_log_groups_durations(qm_client, language):
    from api.models import ApiCall

    ApiCall.objects.create(method="GET", endpoint="/api/v1/responses/", status=200, duration_ms=12345)
    html = qm_client.get(reverse("apicall_list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert _cell(html, GROUPED[language]) and "12345" not in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_lockout_page_groups_its_counts(qm_client, settings, language):
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 1500
    AccessAttempt.objects.create(
        username="lan", ip_address="198.51.100.7", failures_since_start=12345, attempt_time=timezone.now(),
        user_agent="", path_info="/accounts/login/", get_data="", post_data="",
    )  # fmt: skip
    html = qm_client.get(reverse("lockout_list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert _cell(html, GROUPED[language])
    assert {"vi": "1.500", "en": "1,500"}[language] in html and "1500" not in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_import_summary_groups_its_counts(qm_client, language):
    rows = "\n".join(f"Khách {i},k{i}@example.com,vi" for i in range(1234))
    upload = SimpleUploadedFile("c.csv", f"name,email,language\n{rows}\n".encode())
    key = qm_client.post(reverse("customer_import"), {"file": upload}, HTTP_ACCEPT_LANGUAGE=language).context["key"]
    page = qm_client.post(reverse("customer_import"), {"key": key}, follow=True, HTTP_ACCEPT_LANGUAGE=language)
    expected = {"vi": "Đã nhập: 1.234 khách hàng mới", "en": "Imported: 1,234 new customers"}[language]
    assert expected in page.content.decode()


def test_an_import_too_long_says_its_limit_grouped(monkeypatch):
    from customers import importing

    monkeypatch.setattr(importing, "MAX_ROWS", 1500)
    data = ("name\n" + "\n".join(f"K{i}" for i in range(1501)) + "\n").encode()
    with translation.override("vi"):
        assert "1.500" in importing.parse(data).file_problem
    with translation.override("en"):
        assert "1,500" in importing.parse(data).file_problem


@pytest.mark.parametrize(
    ("language", "added", "expected"),
    [("vi", 1234, "Đã thêm 1.234 chủ đề khởi đầu."), ("en", 1234, "1,234 starter themes added."),
     ("en", 1, "1 starter theme added.")],
)  # fmt: skip
def test_the_starter_themes_message_groups_its_count(qm_client, monkeypatch, language, added, expected):
    from insight import services

    monkeypatch.setattr(services, "themes_seed_starter", lambda: added)
    page = qm_client.post(reverse("theme_seed"), follow=True, HTTP_ACCEPT_LANGUAGE=language)
    assert expected in page.content.decode()
