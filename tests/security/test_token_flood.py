"""Item 8: a flood of bad survey tokens from one client. Past the limit it gets 429; good links and staff login
from the same client keep working, and a good link costs no extra query."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_invitation, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_a_thousand_bad_tokens_get_429_and_good_links_still_open(settings):
    limit = settings.BAD_TOKEN_RATE_PER_HOUR
    client = Client(REMOTE_ADDR="203.0.113.66")
    statuses = [client.get(f"/s/guess{i:040d}/").status_code for i in range(1000)]
    assert statuses[:limit] == [404] * limit and set(statuses[limit:]) == {429}
    assert client.post(f"/s/guess{0:040d}/", {"q1": "5"}).status_code == 429
    assert client.get(f"/c/not-a-signed-id{'x' * 20}/").status_code == 429  # tracking links share the limit
    _invitation, token = make_invitation()
    assert client.get(reverse("respond", args=[token])).status_code == 200
    staff_user(username="lan")
    login = client.post(reverse("login"), {"username": "lan", "password": "correct horse battery staple"})
    assert login.status_code == 302
    # Another client is not affected at all.
    assert Client(REMOTE_ADDR="198.51.100.1").get(f"/s/guess{1:040d}/").status_code == 404


def test_a_good_link_does_not_touch_the_limiter(monkeypatch):
    from config import ratelimit

    calls: list[str] = []
    monkeypatch.setattr(ratelimit, "hit", lambda scope, *a, **k: calls.append(scope) or True)
    _invitation, token = make_invitation()
    with CaptureQueriesContext(connection):
        assert Client().get(reverse("respond", args=[token])).status_code == 200
    assert calls == []
