from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from api.keys import apikey_create


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


class Api:
    """A client that sends a key, JSON bodies and a language, as an integration does."""

    def __init__(self, secret: str | None, language: str = "en") -> None:
        self.client = Client()
        self.headers = {"Accept-Language": language}
        if secret is not None:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, url: str, params: dict | None = None, **headers):
        return self.client.get(url, params or {}, headers={**self.headers, **headers})

    def post(self, url: str, body=None, **headers):
        return self.client.post(url, body if body is not None else {}, content_type="application/json",
                                headers={**self.headers, **headers})  # fmt: skip

    def put(self, url: str, body=None, **headers):
        return self.client.put(url, body if body is not None else {}, content_type="application/json",
                               headers={**self.headers, **headers})  # fmt: skip


@pytest.fixture
def write_key(qm):
    key, secret = apikey_create(name="CRM", scope="write", actor=qm)
    return key, secret


@pytest.fixture
def read_key(qm):
    key, secret = apikey_create(name="BI", scope="read", actor=qm)
    return key, secret


@pytest.fixture
def api(write_key) -> Api:
    return Api(write_key[1])


@pytest.fixture
def read_api(read_key) -> Api:
    return Api(read_key[1])


@pytest.fixture
def anonymous() -> Api:
    return Api(None)
