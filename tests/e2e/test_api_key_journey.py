"""A quality manager makes an API key in the staff pages, copies it, and a script acting as the CRM uses it to ask
a survey for a customer; the link it gets back opens the survey, the call is in the log, and the docs page draws
the schema from our own origin."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_first_hour import _context
from tests.factories import CustomerFactory, make_survey, quality_manager

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _crm_asks(base: str, secret: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """What the CRM does (like curl): one JSON POST with the key."""
    request = urllib.request.Request(  # noqa: S310 - the live test server
        f"{base}/api/v1/invitations/",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
            "Idempotency-Key": "order-2026-0001",
            "Accept-Language": "en",
        },  # fmt: skip
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return answer.status, json.loads(answer.read())


def test_a_quality_manager_makes_a_key_and_the_crm_asks_a_survey_with_it(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    manager = quality_manager(username="lan")
    survey = make_survey(owner=manager)
    customer = CustomerFactory(name="Võ Thị Hoa", external_id="CRM-77")
    page = _context(browser, live_server, manager, language="en").new_page()
    third_party: list[str] = []
    page.on("request", lambda r: third_party.append(r.url) if not r.url.startswith(live_server.url) else None)

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Settings").or_(page.get_by_role("link", name="Settings")).first.click()
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    page.get_by_label("Integration").fill("CRM")
    page.get_by_label("Scope").select_option("write")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#api-secret").inner_text().strip()
    assert secret.startswith("ln_")
    expect(page.get_by_role("cell", name="CRM", exact=True)).to_be_visible()

    status, invitation = _crm_asks(live_server.url, secret, {"survey": survey.pk, "customer_external_id": "CRM-77"})
    assert status == 201 and invitation["state"] == "queued" and invitation["customer"] == customer.pk
    # The same order sent twice (a retry) gives the same invitation.
    assert _crm_asks(live_server.url, secret, {"survey": survey.pk, "customer_external_id": "CRM-77"}) == (
        200,
        invitation,
    )

    customer_page = browser.new_page()
    customer_page.goto(invitation["link"])
    expect(customer_page.get_by_role("radiogroup").first).to_be_visible()

    page.goto(f"{live_server.url}/settings/api-keys/")
    assert "ln_" + secret[3:] not in page.content()  # shown once
    expect(page.get_by_role("cell", name="never", exact=True)).to_have_count(0)  # last used is shown
    page.get_by_role("link", name="Call log").click()
    expect(page.get_by_role("cell", name="/api/v1/invitations/")).to_have_count(2)

    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_text("Lắng Nghe API").first).to_be_visible(timeout=15000)
    expect(page.get_by_text("/api/v1/invitations/").first).to_be_visible()
    assert third_party == []
