"""Keys checked lately are not read again while Redis's version stamp holds (api/keys.py), and whatever changes a
key's answer is refused at the next call: in this process at once, in the others through the stamp."""

from __future__ import annotations

import pytest
import redis
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from accounts.roles import QUALITY_MANAGER
from api.keys import STAMP, apikey_revoke
from api.models import ApiKey
from config import ratelimit
from tests.factories import CustomerFactory, make_survey
from tests.helpers import require

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def survey(qm):
    return make_survey(owner=qm)


@pytest.fixture(autouse=True)
def _redis_cache():
    require(ratelimit._redis() is not None, "needs Redis (REDIS_URL)")


def key_reads(api) -> tuple[int, int]:
    """The call's status and how many statements read the key."""
    with CaptureQueriesContext(connection) as queries:
        status = api.get(URL).status_code
    return status, sum(q["sql"].startswith("SELECT") and "api_apikey" in q["sql"] for q in queries.captured_queries)


def test_a_key_checked_once_is_not_read_again_while_the_stamp_holds(api):
    assert key_reads(api) == (200, 1)
    assert key_reads(api) == (200, 0)
    assert key_reads(api) == (200, 0)


def test_a_key_revoked_in_another_process_is_refused_at_the_next_call(api, write_key, qm):
    key, _secret = write_key
    assert key_reads(api) == (200, 1)
    # Another process revokes it: the row changes there (no signal here) and its commit changes the stamp.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now(), revoked_by=qm)
    ratelimit.stamp_bump(STAMP)
    response = api.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key is not valid or has been revoked."


def test_a_key_revoked_here_is_refused_at_once(api, write_key, qm):
    assert key_reads(api) == (200, 1)
    apikey_revoke(key=write_key[0], actor=qm)
    assert api.get(URL).status_code == 401


def test_a_creator_who_is_no_longer_a_quality_manager_or_left_opens_no_door(api, qm):
    assert api.get(URL).status_code == 200
    qm.groups.remove(Group.objects.get(name=QUALITY_MANAGER))
    assert api.get(URL).status_code == 401
    qm.groups.add(Group.objects.get(name=QUALITY_MANAGER))
    assert api.get(URL).status_code == 200
    qm.is_active = False
    qm.save()
    assert api.get(URL).status_code == 401


def test_redis_restarted_empty_reads_the_key_again_and_keeps_counting(api, survey):
    assert key_reads(api) == (200, 1)
    assert key_reads(api) == (200, 0)
    caches["default"].clear()  # Redis came back empty: no stamp, no counts
    assert key_reads(api) == (200, 1)
    assert key_reads(api) == (200, 0)
    response = api.post("/api/v1/invitations/", {"survey": survey.pk, "customer_id": CustomerFactory().pk})
    assert response.status_code == 201


def test_the_rate_limit_counts_every_call_of_a_cached_key(api, settings):
    settings.API_RATE_PER_MINUTE = 3
    assert [api.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_with_redis_unreachable_every_call_reads_the_key_and_a_revoked_key_stays_refused(
    api, write_key, qm, monkeypatch
):
    assert key_reads(api) == (200, 1)
    backend = caches["default"]
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(ratelimit, "_redis", lambda: (backend, dead))
    assert key_reads(api) == (200, 1)  # no stamp to trust: read from the database
    assert key_reads(api) == (200, 1)
    ApiKey.objects.filter(pk=write_key[0].pk).update(revoked_at=timezone.now(), revoked_by=qm)
    assert api.get(URL).status_code == 401
