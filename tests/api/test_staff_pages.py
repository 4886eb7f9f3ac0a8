"""The quality manager's API key pages: a key is shown once, stored hashed, revoked; calls are listed by page."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from api.keys import apikey_create
from api.models import ApiCall, ApiKey
from audit.models import AuditEntry
from tests.api.conftest import Api
from tests.factories import quality_manager

pytestmark = pytest.mark.django_db


def test_a_quality_manager_creates_a_key_sees_it_once_and_it_works(qm_client, qm):
    page = qm_client.get(reverse("apikey_list"))
    assert page.status_code == 200 and "Chưa có khóa API nào" in page.content.decode()
    created = qm_client.post(reverse("apikey_list"), {"name": "CRM", "scope": "write"})
    html = created.content.decode()
    secret = re.search(r'<code id="api-secret"[^>]*>([^<]+)</code>', html).group(1)
    assert created["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in key.key_hash
    assert (key.scope, key.created_by, key.name) == ("write", qm, "CRM")
    assert secret not in qm_client.get(reverse("apikey_list")).content.decode()  # shown once
    entry = AuditEntry.objects.get(record_type="api.apikey")
    assert entry.action == "create" and secret not in str(entry.changes) and key.key_hash not in str(entry.changes)
    assert Api(secret).get("/api/v1/customers/").status_code == 200


def test_revoking_a_key_stops_it_and_is_audited(qm_client, write_key):
    key, secret = write_key
    response = qm_client.post(reverse("apikey_revoke", args=[key.pk]), follow=True)
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEntry.objects.filter(record_type="api.apikey", action="revoke").count() == 1
    assert Api(secret).get("/api/v1/customers/").status_code == 401
    again = qm_client.post(reverse("apikey_revoke", args=[key.pk]), follow=True)
    assert "đã bị thu hồi" in again.content.decode()


def test_a_key_whose_maker_left_stops_and_its_page_says_why(qm_client, qm):
    leaver = quality_manager(username="left")
    _key, secret = apikey_create(name="Shop", scope="write", actor=leaver)
    assert Api(secret).get("/api/v1/customers/").status_code == 200
    leaver.is_active = False  # their account is closed when they leave
    leaver.save(update_fields=["is_active"])
    assert Api(secret).get("/api/v1/customers/").status_code == 401
    assert "không còn là quản lý chất lượng" in qm_client.get(reverse("apikey_list")).content.decode()


def test_a_bad_key_name_is_refused_and_nothing_is_made(qm_client):
    response = qm_client.post(reverse("apikey_list"), {"name": "a\nb", "scope": "admin"})
    assert response.status_code == 200 and not ApiKey.objects.exists()
    assert 'class="invalid-feedback' in response.content.decode()


def test_the_call_log_is_paginated_and_filtered_by_key(qm_client, write_key, read_key):
    ApiCall.objects.bulk_create(
        [ApiCall(key=write_key[0], method="GET", endpoint="/api/v1/customers/", status=200, duration_ms=3)] * 60
        + [ApiCall(key=read_key[0], method="POST", endpoint="/api/v1/cases/", status=403, duration_ms=2)]
    )
    first = qm_client.get(reverse("apicall_list")).content.decode()
    assert "Trang 1 / 2" in first or "1 / 2" in first
    only = qm_client.get(reverse("apicall_list"), {"key": read_key[0].pk}).content.decode()
    assert "/api/v1/cases/" in only and "/api/v1/customers/" not in only
    assert "Chưa có lệnh gọi API nào" in qm_client.get(reverse("apicall_list"), {"key": 999999}).content.decode()
