"""Each pytest-xdist worker gets its own Redis database, inside Redis's sixteen, and gw0 keeps the configured one."""

import os

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import redis_url_for_test_worker


def test_each_worker_has_its_own_database_and_gw0_keeps_the_configured_one():
    assert redis_url_for_test_worker("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/0"
    assert redis_url_for_test_worker("redis://127.0.0.1:6379/0", "gw1") == "redis://127.0.0.1:6379/1"
    assert redis_url_for_test_worker("redis://127.0.0.1:6379/8", "gw1") == "redis://127.0.0.1:6379/9"
    assert redis_url_for_test_worker("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/0"
    assert redis_url_for_test_worker("redis://127.0.0.1:6379", "gw2") == "redis://127.0.0.1:6379/2"
    assert redis_url_for_test_worker("redis://:pw@redis:6380/3?x=1", "gw1") == "redis://:pw@redis:6380/4?x=1"


def test_a_strange_worker_name_or_database_is_refused():
    with pytest.raises(ImproperlyConfigured, match="PYTEST_XDIST_WORKER"):
        redis_url_for_test_worker("redis://127.0.0.1:6379/0", "master")
    with pytest.raises(ImproperlyConfigured, match="database number"):
        redis_url_for_test_worker("redis://127.0.0.1:6379/cache", "gw1")


def test_this_process_uses_its_workers_database(worker_id):
    if not os.environ.get("REDIS_URL") or worker_id == "master":
        return  # nothing shifted: no Redis, or no pytest-xdist
    assert redis_url_for_test_worker(os.environ["REDIS_URL"], worker_id) == settings.REDIS_URL
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL == settings.CACHES["default"]["LOCATION"]
