"""Item 3: password guessing and reset-mail floods. django-axes locks an account and a client address, each on its
own, for a cool-off; quality managers can unlock; reset mail is throttled; the token pages' limit is separate."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_invitation, quality_manager, staff_user

pytestmark = pytest.mark.django_db
RIGHT = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _login(username: str, password: str, address: str = "203.0.113.7") -> int:
    page = Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": password})
    return page.status_code


def test_thirty_wrong_passwords_then_the_right_one_does_not_log_in(settings):
    staff_user(username="lan")
    statuses = [_login("lan", f"guess-{i}") for i in range(30)]
    assert statuses[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(statuses[settings.AXES_FAILURE_LIMIT :]) == {429}
    assert _login("lan", RIGHT) == 429
    # The survey pages keep their own limits: a customer at the locked address still answers.
    _invitation, token = make_invitation()
    assert Client(REMOTE_ADDR="203.0.113.7").get(reverse("respond", args=[token])).status_code == 200
    # Locked per account: the right password from another address is refused too.
    assert _login("lan", RIGHT, address="198.51.100.9") == 429
    # After the cool-off it works again.
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert _login("lan", RIGHT) == 302


def test_one_address_guessing_many_accounts_is_locked_but_others_are_not(settings):
    staff_user(username="minh")
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(f"nobody{i}", "x", address="203.0.113.50")
    assert _login("minh", RIGHT, address="203.0.113.50") == 429
    assert _login("minh", RIGHT, address="198.51.100.1") == 302


def test_guessing_from_many_addresses_of_one_ipv6_network_is_locked_as_one_client(settings):
    staff_user(username="minh")
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(f"nobody{i}", "x", address=f"2001:db8:5:9::{i + 1:x}")
    assert _login("minh", RIGHT, address="2001:db8:5:9:abcd::1") == 429
    assert _login("minh", RIGHT, address="2001:db8:5:a::1") == 302


def test_a_quality_manager_unlocks_and_staff_cannot(settings):
    staff_user(username="lan")
    manager = quality_manager(username="boss")
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login("lan", f"guess-{i}")
    assert _login("lan", RIGHT, address="198.51.100.2") == 429
    other = Client()
    other.force_login(staff_user(username="peer"))
    assert other.get(reverse("lockout_list")).status_code == 403
    assert other.post(reverse("lockout_unlock"), {"username": "lan"}).status_code == 403
    assert _login("lan", RIGHT, address="198.51.100.2") == 429
    boss = Client()
    boss.force_login(manager)
    assert "lan" in boss.get(reverse("lockout_list")).content.decode()
    boss.post(reverse("lockout_unlock"), {"username": "lan"})
    boss.post(reverse("lockout_unlock"), {"ip_address": "203.0.113.7"})
    assert _login("lan", RIGHT) == 302


def test_ten_reset_requests_send_at_most_the_limit(mailoutbox, settings):
    user = staff_user(username="lan")
    for _ in range(10):
        page = Client(REMOTE_ADDR="203.0.113.8").post(reverse("password_reset"), {"email": user.email})
        assert page.status_code == 302  # the same answer every time: it tells nothing
    assert len(mailoutbox) == settings.PASSWORD_RESET_RATE_PER_HOUR


def test_a_flood_of_bad_survey_links_does_not_lock_the_login(settings):
    staff_user(username="lan")
    settings.BAD_TOKEN_RATE_PER_HOUR = 5
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert [client.get(f"/s/{'x' * 43}{i}/").status_code for i in range(8)][-1] == 429
    assert _login("lan", RIGHT, address="203.0.113.9") == 302
