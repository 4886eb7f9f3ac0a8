"""Issue 14's journey: a quality manager makes an API key and a webhook in the staff pages; a script acting as the
CRM asks for a survey by API; the customer answers from the email; the CRM's receiver gets the detractor event,
signed so that an independent Standard Webhooks implementation accepts it; and a complaint the helpdesk opens by
API is on the staff page."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect
from standardwebhooks import Webhook

from outbox.dispatch import outbox_dispatch
from tests.e2e.test_first_hour import _context
from tests.factories import CustomerFactory, make_survey, quality_manager
from tests.webhooks.receiver import Receiver
from webhooks import delivery, events

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _api(base: str, secret: str, path: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    """What the CRM or the helpdesk does (like curl): one JSON POST with the key."""
    request = urllib.request.Request(  # noqa: S310 - the live test server
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return answer.status, json.loads(answer.read())


def _until(found: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    """Wait for `found()` as the workers' periodic tasks would get there: dispatch the outbox, sweep for new
    responses, send the webhook deliveries (the same functions beat runs)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        outbox_dispatch()
        events.sweep()
        delivery.webhooks_send()
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_a_crm_asks_a_survey_by_api_and_hears_the_detractor_by_webhook(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on 127.0.0.1, which production refuses
    events.subscribers_changed()
    receiver = Receiver().start()
    manager = quality_manager(username="lan", email="lan@example.com")
    survey = make_survey(owner=manager)
    CustomerFactory(name="Võ Thị Hoa", email="hoa@example.com", external_id="CRM-77", language="en")
    staff = _context(browser, live_server, manager, language="en").new_page()
    try:
        # 1. The key, shown once.
        staff.goto(f"{live_server.url}/settings/api-keys/")
        staff.get_by_label("Integration").fill("CRM")
        staff.get_by_label("Scope").select_option("write")
        staff.get_by_role("button", name="Create key").click()
        api_secret = staff.locator("#api-secret").inner_text().strip()

        # 2. The webhook, with its signing secret, also shown once.
        staff.goto(f"{live_server.url}/settings/webhooks/new/")
        staff.get_by_label("Receiver URL").fill(receiver.url)
        staff.get_by_label("Detractor response").check()
        staff.get_by_label("Case opened").check()
        staff.get_by_role("button", name=re.compile("Create|Save")).click()
        signing_secret = staff.locator("#webhook-secret").inner_text().strip()
        assert signing_secret.startswith("whsec_")

        # 3. The CRM asks for a survey when the order is delivered, and has it emailed.
        status, invitation = _api(
            live_server.url, api_secret, "/api/v1/invitations/",
            {"survey": survey.pk, "customer_external_id": "CRM-77", "send": True}, "order-77",
        )  # fmt: skip
        assert status == 201, invitation
        email = _until(lambda: [m for m in mail.outbox if m.to == ["hoa@example.com"]], "the invitation email")[0]
        link = re.search(r"https?://[^\s\"<>]+/s/[^\s\"<>/]+/", email.body).group(0)

        # 4. The customer answers from the email: a detractor.
        customer = browser.new_context(locale="en-GB").new_page()
        customer.goto(link)
        customer.get_by_role("radio", name="2", exact=True).check()
        customer.get_by_role("button", name="Send my answers").click()
        customer.wait_for_url("**/thanks/**")

        # 5. The receiver hears of it, signed.
        def detractor_event() -> dict[str, Any] | None:
            for hit in receiver.received:
                payload = json.loads(hit.body)
                if payload["type"] == "response.detractor":
                    return {"payload": payload, "hit": hit}
            return None

        got = _until(detractor_event, "the detractor webhook")
        verified = Webhook(signing_secret).verify(got["hit"].body, got["hit"].headers)
        assert verified["type"] == "response.detractor"
        assert verified["data"]["survey"]["id"] == survey.pk
        assert verified["data"]["customer"]["external_id"] == "CRM-77"  # the CRM's own id, no name or address
        assert [a["score"] for a in verified["data"]["detractor_answers"]] == [2]

        # 6. The helpdesk opens a complaint by API; it is on the staff page, and the receiver hears of that too.
        status, case = _api(
            live_server.url, api_secret, "/api/v1/cases/",
            {"channel": "phone", "description": "Giao hàng trễ ba ngày", "customer_external_id": "CRM-77"}, "ticket-9",
        )  # fmt: skip
        assert status == 201, case
        staff.goto(f"{live_server.url}/cases/")
        expect(staff.get_by_role("link", name=case["reference"])).to_be_visible()
        _until(
            lambda: any(json.loads(h.body)["type"] == "case.opened" for h in receiver.received),
            "the case.opened webhook",
        )
    finally:
        receiver.stop()
        events.subscribers_changed()
