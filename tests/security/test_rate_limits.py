"""Item 5: rate limits that held per process only, trusted the wrong client address, and failed with the cache.

One limiter (config/ratelimit.py) counts in the shared cache, keyed on the client as the trusted proxy saw it; a
cache that is down lets public pages work (and logs it) instead of answering 500."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from feedback.models import ComplaintCase
from surveys.models import Response
from surveys.public import public_link_enable
from tests.factories import make_survey
from tests.helpers import require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _complain(client: Client, **extra: str) -> int:
    data = {"lang": "vi", "name": "Lan", "email": "lan@example.com", "description": "Giao trễ"}
    return client.post(reverse("complaint_form"), data, **extra).status_code


@pytest.mark.integration
def test_four_processes_share_one_count():
    redis_url = django_settings.REDIS_URL  # this test process's database (under pytest-xdist, its worker's own)
    require(bool(redis_url), "needs Redis (REDIS_URL)")
    scope = f"test-{uuid.uuid4().hex}"
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup()\n"
        "from config import ratelimit\n"
        f"print(sum(ratelimit.hit({scope!r}, '198.51.100.7', limit=5) for _ in range(10)))\n"
    )
    env = {**os.environ, "REDIS_URL": redis_url}
    workers = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(4)
    ]
    accepted = [int(worker.communicate(timeout=120)[0].strip()) for worker in workers]
    assert sum(accepted) == 5, accepted  # 40 attempts, limit 5, whichever process took them


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_reset_the_count(settings):
    settings.TRUSTED_PROXY_COUNT, settings.COMPLAINT_FORM_RATE_PER_HOUR = 1, 3
    client = Client(REMOTE_ADDR="10.0.0.2")  # the proxy
    # The client writes whatever it likes on the left; the proxy appends the address it saw.
    statuses = [_complain(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 198.51.100.7") for i in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    # Another real client behind the same proxy has its own count.
    assert _complain(client, HTTP_X_FORWARDED_FOR="198.51.100.8") == 302
    assert ComplaintCase.objects.count() == 4


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT, settings.COMPLAINT_FORM_RATE_PER_HOUR = 0, 2
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert [_complain(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}") for i in range(3)] == [302, 302, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("proxied", [False, True])
def test_an_ipv6_client_is_counted_by_its_network_not_by_each_address(settings, proxied):
    """Anyone with an IPv6 line has a /64 of addresses: a fresh address per request gave a fresh count."""
    settings.TRUSTED_PROXY_COUNT, settings.COMPLAINT_FORM_RATE_PER_HOUR = int(proxied), 3

    def complain_from(address: str) -> int:
        if proxied:
            return _complain(Client(REMOTE_ADDR="10.0.0.2"), HTTP_X_FORWARDED_FOR=address)
        return _complain(Client(REMOTE_ADDR=address))

    statuses = [complain_from(f"2001:db8:7:1:{i:x}::{i + 1:x}") for i in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert complain_from("2001:db8:7:2::1") == 302  # the next network is another subscriber
    assert ComplaintCase.objects.count() == 4


@pytest.mark.django_db
def test_an_ipv4_client_in_ipv6_form_is_that_ipv4_client(settings):
    """A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d: each is its own client, as in IPv4 form."""
    settings.COMPLAINT_FORM_RATE_PER_HOUR = 2
    assert [_complain(Client(REMOTE_ADDR="::ffff:198.51.100.7")) for _ in range(2)] == [302, 302]
    assert _complain(Client(REMOTE_ADDR="198.51.100.7")) == 429  # the same client
    assert _complain(Client(REMOTE_ADDR="::ffff:198.51.100.8")) == 302  # not all of IPv4 in one count


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "same", "other"),
    [
        ("203.0.113.7:4711", "203.0.113.7:5000", "203.0.113.8:4711"),
        ("[2001:db8:7:1::1]:443", "[2001:db8:7:1::9]:80", "[2001:db8:7:2::1]:443"),
        ("[2001:db8:7:1::1]", "2001:db8:7:1::2", "[2001:db8:7:2::1]"),
    ],
)
def test_a_forwarded_entry_with_a_port_is_that_client(settings, first, same, other):
    """Some proxies write the client's port into X-Forwarded-For. Read as no address, every client behind the proxy
    fell back to the proxy's address and shared one count: one flood locked out everyone else."""
    settings.TRUSTED_PROXY_COUNT, settings.COMPLAINT_FORM_RATE_PER_HOUR = 1, 2
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    assert [_complain(proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.1, {first}") for _ in range(2)] == [302, 302]
    assert _complain(proxy, HTTP_X_FORWARDED_FOR=same) == 429  # another port is the same client
    assert _complain(proxy, HTTP_X_FORWARDED_FOR=other) == 302  # another client behind the proxy is not held up
    assert ComplaintCase.objects.count() == 3


@pytest.mark.parametrize(
    ("entries", "hops", "client"),
    [
        ("203.0.113.7:4711", 1, "203.0.113.7"),
        ("[2001:db8::1]:443", 1, "2001:db8::"),
        ("::ffff:203.0.113.7", 1, "203.0.113.7"),
        ("[::ffff:203.0.113.7]:8080", 1, "203.0.113.7"),
        ("203.0.113.7:4711, 10.0.0.9:1234", 2, "203.0.113.7"),  # the port-writing proxy is one of two
        ("198.51.100.1, 203.0.113.7:4711, 10.0.0.9", 2, "203.0.113.7"),
        # Not addresses: the proxy's own address stands, as before.
        ("203.0.113.7:99999", 1, "10.0.0.2"),
        ("203.0.113.7:", 1, "10.0.0.2"),
        ("203.0.113.7:http", 1, "10.0.0.2"),
        ("[2001:db8::1", 1, "10.0.0.2"),
        ("[2001:db8::1]443", 1, "10.0.0.2"),
        ("[203.0.113.7]x", 1, "10.0.0.2"),
        ("example.org:443", 1, "10.0.0.2"),
        ("203.0.113.7:4711", 2, "10.0.0.2"),  # fewer entries than trusted proxies: unchanged
    ],
)
def test_the_client_address_behind_proxies_that_write_ports(settings, rf, entries, hops, client):
    from config.ratelimit import client_address

    settings.TRUSTED_PROXY_COUNT = hops
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=entries)
    assert client_address(request) == client


@pytest.mark.django_db
def test_public_pages_work_and_log_when_the_cache_is_down(caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/11",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    survey = public_link_enable(survey=make_survey(kind="csat"))
    score = survey.current_version.questions.order_by("position").first()
    with override_settings(CACHES=down):
        page = Client().post(reverse("respond_public", args=[survey.public_key]), {"lang": "vi", f"q{score.pk}": "5"})
        assert page.status_code == 302 and Response.objects.count() == 1
        assert _complain(Client()) == 302 and ComplaintCase.objects.count() == 1
        assert Client().get(f"/s/{'x' * 43}/").status_code == 404
    assert "the cache is unreachable" in caplog.text


@pytest.mark.django_db
def test_the_complaint_form_mails_one_mailbox_a_few_acknowledgements_a_day(
    mailoutbox, django_capture_on_commit_callbacks
):
    """The form mails an acknowledgement, greeting the name typed, to the address typed: anyone's. The limit per
    client did not stop a visitor changing address, so a victim got our letterhead with a stranger's text as often
    as the form was sent. Now three a day per mailbox (case and plus-tags do not count); the complaints themselves
    are all recorded, the rest without the email."""
    addresses = ["victim@example.org", "Victim@Example.org", "victim+2@example.org", "victim+3@example.org",
                 "victim@example.org"]  # fmt: skip
    for number, address in enumerate(addresses):
        data = {"lang": "en", "name": "Pay your overdue invoice at http://pay.example", "email": address,
                "description": "x"}  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(reverse("complaint_form"), data, REMOTE_ADDR=f"203.0.113.{number + 1}")
        assert response.status_code == 302
    assert ComplaintCase.objects.count() == 5
    assert len(mailoutbox) == 3
    # Another mailbox is not affected.
    with django_capture_on_commit_callbacks(execute=True):
        _complain(Client(), REMOTE_ADDR="203.0.113.99")
    assert len(mailoutbox) == 4 and mailoutbox[-1].to == ["lan@example.com"]
