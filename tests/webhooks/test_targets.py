"""SSRF: a webhook never reaches this machine, a private network or a metadata service, at registration or later."""

import ipaddress
import socket

import pytest
from django.core.exceptions import ValidationError

from webhooks.delivery import webhooks_send
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import endpoint_create
from webhooks.targets import TargetRefused, target_check

pytestmark = pytest.mark.django_db

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.9.9.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.5", "private"),
    ("192.168.1.10", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.10.1", "link-local"),
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "reserved"),  # carrier-grade NAT: not the public internet
    ("0.0.0.0", "unspecified"),  # noqa: S104 - a target refused, not a bind
    ("::", "unspecified"),
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("::ffff:169.254.169.254", "metadata"),
    ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 form of 169.254.169.254
    ("2002:7f00:1::", "loopback"),  # 6to4 form of 127.0.0.1
]


def _fake_dns(monkeypatch, addresses):
    """The resolver answers `addresses` (a list, or a callable returning one) for every name."""

    def getaddrinfo(host, port, *args, **kwargs):
        answer = addresses() if callable(addresses) else addresses
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_each_address_class_is_refused_at_registration(address, kind, qm):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationError) as refused:
        endpoint_create(url=f"https://{host}/hook", events=["case.opened"], actor=qm)
    assert "webhook không được gửi tới đó" in str(refused.value)  # the site speaks Vietnamese by default


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_a_name_that_resolves_to_such_an_address_is_refused(address, kind, monkeypatch):
    _fake_dns(monkeypatch, [address])
    with pytest.raises(TargetRefused):
        target_check("https://hooks.example.com/in")


def test_one_bad_address_among_good_ones_is_enough_to_refuse(monkeypatch):
    _fake_dns(monkeypatch, ["93.184.216.34", "10.0.0.1"])
    with pytest.raises(TargetRefused):
        target_check("https://hooks.example.com/in")


def test_a_public_address_is_accepted_and_pinned(monkeypatch):
    _fake_dns(monkeypatch, ["93.184.216.34"])
    target = target_check("https://hooks.example.com:8443/in?x=1")
    assert (target.host, target.port, target.path, target.address) == ("hooks.example.com", 8443, "/in?x=1",
                                                                       "93.184.216.34")  # fmt: skip


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http://user:pw@example.com/", "//x"],
)
def test_only_http_and_https_without_credentials(url):
    with pytest.raises(TargetRefused):
        target_check(url)


def test_private_targets_can_be_allowed_but_metadata_never(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert target_check("http://127.0.0.1:9/x").address == "127.0.0.1"
    for address in ("169.254.169.254", "[fd00:ec2::254]", "[::ffff:169.254.169.254]"):
        with pytest.raises(TargetRefused):
            target_check(f"http://{address}/latest/meta-data/")


def _forms(v4: str) -> list[str]:
    """An IPv4 address and the IPv6 forms that reach it: IPv4-mapped, NAT64 (well-known and local-use prefixes),
    IPv4-compatible."""
    n = int(ipaddress.IPv4Address(v4))
    return [v4, f"::ffff:{v4}", *(str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(p)) | n))
                                  for p in ("64:ff9b::", "64:ff9b:1::", "::"))]  # fmt: skip


# Cloud metadata services and the link-local ranges they live in: refused even where private receivers are allowed.
ALWAYS_REFUSED = [
    *_forms("169.254.169.254"),  # AWS, Azure, GCP, ...
    *_forms("169.254.170.2"),  # AWS ECS credentials
    *_forms("100.100.100.200"),  # Alibaba Cloud
    *_forms("168.63.129.16"),  # Azure WireServer
    *_forms("169.254.1.1"),  # any IPv4 link-local
    "fd00:ec2::254",  # AWS over IPv6
    "fe80::1",
    "fe80::a9fe:a9fe",
]


@pytest.mark.parametrize("address", ALWAYS_REFUSED)
def test_metadata_and_link_local_are_refused_at_registration_even_with_private_targets_allowed(address, qm, private_ok):
    from webhooks.models import WebhookEndpoint

    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationError) as refused:
        endpoint_create(url=f"http://{host}/latest/meta-data/", events=["case.opened"], actor=qm)
    assert "webhook không được gửi tới đó" in str(refused.value)
    assert not WebhookEndpoint.objects.exists()


def _delivered_after_rebinding(registered, later, qm, receiver, monkeypatch, capture) -> WebhookAttempt:
    """An endpoint registered while its name resolved to `registered`, a case event delivered once the name
    resolves to `later`: the delivery's one attempt (the receiver must have got nothing)."""
    from feedback import workflow

    answers = iter([[registered]])
    _fake_dns(monkeypatch, lambda: next(answers, [later]))
    endpoint_create(url=f"http://rebind.example.com:{receiver.port}/x", events=["case.opened"], actor=qm)
    with capture(execute=True):
        workflow.case_create(channel="phone", description="x", contact_name="K")
    webhooks_send()
    assert receiver.received == []
    return WebhookAttempt.objects.get()


@pytest.mark.parametrize("address", ALWAYS_REFUSED)
def test_a_name_rebound_to_metadata_is_not_reached_even_with_private_targets_allowed(
    address, qm, receiver, monkeypatch, private_ok, django_capture_on_commit_callbacks
):
    """Registered while it resolved to the on-premise receiver, then rebound to a metadata address: not sent."""
    attempt = _delivered_after_rebinding(
        "127.0.0.1", address, qm, receiver, monkeypatch, django_capture_on_commit_callbacks
    )
    assert attempt.outcome == "target" and str(ipaddress.ip_address(address)) in attempt.excerpt
    assert WebhookDelivery.objects.get().state == "pending"


def test_a_name_rebound_to_loopback_after_registration_is_not_reached(
    qm, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    """DNS rebinding: public at registration, 127.0.0.1 at delivery. The delivery is refused, nothing connects."""
    attempt = _delivered_after_rebinding(
        "93.184.216.34", "127.0.0.1", qm, receiver, monkeypatch, django_capture_on_commit_callbacks
    )
    assert attempt.outcome == "target" and "127.0.0.1" in attempt.excerpt
    assert WebhookDelivery.objects.get().state == "pending"  # retried later, in case the name is fixed


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(
    qm, receiver, monkeypatch, private_ok, django_capture_on_commit_callbacks
):
    """Resolved once per round: a resolver that would answer differently the second time is never asked again."""
    from feedback import workflow

    calls = []

    def answer():
        calls.append(1)
        return ["127.0.0.1"] if len(calls) <= 2 else ["127.0.0.2"]  # nothing listens there

    _fake_dns(monkeypatch, answer)
    endpoint_create(url=f"http://pinned.example.com:{receiver.port}/x", events=["case.opened"], actor=qm)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_create(channel="phone", description="x", contact_name="K")
    assert len(receiver.received) == 1 and receiver.received[0].headers["host"].startswith("pinned.example.com")
    assert len(calls) == 2  # registration, then the delivery round


def test_redirects_are_not_followed(qm, private_ok, receiver, django_capture_on_commit_callbacks):
    from feedback import workflow

    receiver.status = 302
    endpoint_create(url=receiver.url, events=["case.opened"], actor=qm)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_create(channel="phone", description="x", contact_name="K")
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.get().outcome == "http" and WebhookDelivery.objects.get().state == "pending"
