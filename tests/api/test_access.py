"""Every endpoint refuses a call without a key, with a revoked or unknown key, and a write with a read key; each
refusal is JSON in the documented shape, changes nothing, and is in the call log."""

from __future__ import annotations

import pytest

from api.keys import apikey_revoke
from api.models import ApiCall
from audit.models import AuditEntry
from customers.models import Customer
from surveys.models import Invitation
from tests.api.conftest import Api
from tests.factories import CustomerFactory, make_survey

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/customers/",
    "/api/v1/customers/{customer}/",
    "/api/v1/customers/by-external-id/EXT-A/",
    "/api/v1/invitations/{invitation}/",
    "/api/v1/responses/",
    "/api/v1/cases/{case}/",
    "/api/v1/aggregates/?survey={survey}",
]
WRITES = [
    ("post", "/api/v1/customers/", {"name": "An"}),
    ("put", "/api/v1/customers/by-external-id/EXT-NEW/", {"name": "An"}),
    ("post", "/api/v1/customers/{customer}/erase/", {"reason": "email of 3 May"}),
    ("post", "/api/v1/invitations/", {"survey": "{survey}", "customer_id": "{customer}"}),
    ("post", "/api/v1/cases/", {"channel": "phone", "description": "Giao trễ", "contact_name": "An"}),
]


@pytest.fixture
def world(api, qm):
    from feedback import workflow

    survey = make_survey(owner=qm)
    customer = CustomerFactory(external_id="EXT-A")
    invitation = api.post("/api/v1/invitations/", {"survey": survey.pk, "customer_id": customer.pk}).json()
    case = workflow.case_create(channel="phone", description="x", contact_name="k")
    return {"survey": survey.pk, "customer": customer.pk, "invitation": invitation["id"], "case": case.reference}


def _fill(value, world):
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        out = {k: _fill(v, world) for k, v in value.items()}
        return {k: int(v) if k in ("survey", "customer_id") else v for k, v in out.items()}
    return value


def _state():
    return (Customer.objects.count(), Invitation.objects.count(), AuditEntry.objects.count(),
            Customer.objects.filter(erased_at__isnull=False).count())  # fmt: skip


def _refused(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


@pytest.mark.parametrize("who", ["none", "unknown", "revoked", "malformed", "maker deactivated", "maker now staff"])
def test_calls_without_a_valid_key_are_refused_401(world, write_key, qm, who):
    secret = {"none": None, "unknown": "ln_" + "x" * 43, "revoked": write_key[1], "malformed": "nope",
              "maker deactivated": write_key[1], "maker now staff": write_key[1]}[who]  # fmt: skip
    if who == "revoked":
        apikey_revoke(key=write_key[0], actor=qm)
    if who == "maker deactivated":  # the quality manager who made the key has left
        qm.is_active = False
        qm.save(update_fields=["is_active"])
    if who == "maker now staff":  # ... or moved to another job: staff may not erase customers or read them all
        from django.contrib.auth.models import Group

        qm.groups.set([Group.objects.get(name="Staff")])
    client = Api(secret)
    before = _state()
    for url in READS:
        _refused(client.get(url.format(**world)), 401, "not_authenticated" if who == "none" else "invalid_key")
    for method, url, body in WRITES:
        response = getattr(client, method)(_fill(url, world), _fill(body, world))
        _refused(response, 401, "not_authenticated" if who == "none" else "invalid_key")
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert _state() == before


def test_a_read_key_reads_and_may_not_write(world, read_api):
    for url in READS:
        assert read_api.get(url.format(**world)).status_code == 200, url
    before = _state()
    for method, url, body in WRITES:
        response = getattr(read_api, method)(_fill(url, world), _fill(body, world))
        _refused(response, 403, "permission_denied")
        assert "write" in response.json()["error"]["message"]
    assert _state() == before


def test_a_write_key_does_all(world, api):
    for method, url, body in WRITES:
        response = getattr(api, method)(_fill(url, world), _fill(body, world))
        assert response.status_code in (200, 201), (url, response.content)


def test_every_call_is_logged_with_its_key_route_status_and_duration(world, read_api, read_key, anonymous):
    ApiCall.objects.all().delete()
    read_api.get(f"/api/v1/customers/{world['customer']}/")
    anonymous.get("/api/v1/customers/")
    read_api.post("/api/v1/customers/", {"name": "An"})
    calls = list(ApiCall.objects.order_by("id").values_list("key_id", "method", "endpoint", "status"))
    assert calls == [
        (read_key[0].pk, "GET", "/api/v1/customers/{pk}/", 200),
        (None, "GET", "/api/v1/customers/", 401),
        (read_key[0].pk, "POST", "/api/v1/customers/", 403),
    ]
    assert all(c.duration_ms >= 0 and c.at for c in ApiCall.objects.all())
    read_key[0].refresh_from_db()
    assert read_key[0].last_used_at is not None


def test_calls_without_a_valid_key_leave_a_bounded_number_of_rows(settings, world, read_api, anonymous):
    """Each call without a key (or with a wrong one) wrote a call-log row, kept 90 days, with no limit: a client could
    grow the table and bury the log as fast as it could send. Past BAD_TOKEN_RATE_PER_HOUR such calls an hour, the
    answers stay the same but leave no row; calls with a valid key are all logged."""
    settings.BAD_TOKEN_RATE_PER_HOUR = 3
    ApiCall.objects.all().delete()
    for _ in range(5):
        assert read_api.get(f"/api/v1/customers/{world['customer']}/").status_code == 200
    for _ in range(10):
        assert anonymous.get("/api/v1/customers/").status_code == 401
        assert anonymous.get("/api/v1/no-such-endpoint/").status_code == 404
    for _ in range(5):
        assert Api("ln_" + "x" * 43).get("/api/v1/customers/").status_code in (401, 429)
    assert ApiCall.objects.exclude(key=None).count() == 5
    assert ApiCall.objects.filter(key=None).count() == 3


def test_each_key_is_rate_limited(settings, world, read_api, api):
    settings.API_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert read_api.get("/api/v1/customers/").status_code == 200
    response = read_api.get("/api/v1/customers/")
    _refused(response, 429, "rate_limited")
    assert response["Retry-After"] == "60"
    # Another key has its own count.
    assert api.get("/api/v1/customers/").status_code == 200


def test_a_flood_of_wrong_keys_is_cut_off(settings, world):
    settings.BAD_TOKEN_RATE_PER_HOUR = 2
    wrong = Api("ln_" + "y" * 43)
    assert [wrong.get("/api/v1/customers/").status_code for _ in range(4)] == [401, 401, 401, 429]
    # The words say the wait Retry-After gives: an hour, not "a minute".
    cut = wrong.get("/api/v1/customers/", **{"Accept-Language": "vi"})
    assert cut["Retry-After"] == "3600"
    assert cut.json()["error"]["message"] == "Quá nhiều yêu cầu: hãy thử lại sau 60 phút."
    english = wrong.get("/api/v1/customers/").json()["error"]["message"]
    assert english == "Too many requests: try again in 60 minutes."


def test_a_flood_of_wrong_keys_does_not_lock_out_a_real_key_behind_the_same_address(
    settings, world, write_key, django_assert_num_queries
):
    # An integration behind a shared address (a NAT, a proxy): someone else's made-up keys used to cut it off too.
    settings.BAD_TOKEN_RATE_PER_HOUR = 2
    key, secret = write_key
    wrong = Api("ln_" + "z" * 43)
    assert [wrong.get("/api/v1/customers/").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert Api(secret).get("/api/v1/customers/").status_code == 200
    # Made-up keys still cost no lookup of the key table once cut off; one with a real key's prefix is checked.
    with django_assert_num_queries(0):
        assert wrong.get("/api/v1/customers/").status_code == 429
    assert Api(secret[:9] + "x" * 34).get("/api/v1/customers/").status_code == 401
    # A revoked key's prefix opens nothing either.
    apikey_revoke(key=key, actor=key.created_by)
    assert Api(secret).get("/api/v1/customers/").status_code == 429


def test_an_unknown_url_and_a_wrong_method_answer_json(api):
    _refused(api.get("/api/v1/nothing-here/"), 404, "not_found")
    _refused(api.client.delete("/api/v1/customers/", headers=api.headers), 405, "method_not_allowed")


def test_unknown_api_urls_answer_json_404_for_any_method(api, anonymous):
    for client in (api, anonymous):
        _refused(client.post("/api/v1/customers/null,null/erase/", {"reason": "x"}), 404, "not_found")
        _refused(client.get("/api/v1/customers/?cursor=bad"), 400 if client is api else 401,
                 "invalid" if client is api else "not_authenticated")  # fmt: skip


@pytest.mark.parametrize("position", ["abc", "1 OR 1=1", "\x00", "1e9", "٣", str(2**63)])
@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/responses/"])
def test_a_forged_cursor_is_refused_as_bad_input_not_a_500(api, url, position):
    """A cursor is base64 the client can write: a position that is no id is a 400 naming the cursor."""
    import base64
    from urllib.parse import urlencode

    CustomerFactory.create_batch(3)
    forged = base64.b64encode(urlencode({"p": position}).encode()).decode()
    response = api.get(url, {"cursor": forged})
    _refused(response, 400, "invalid")
    assert response.json()["error"]["fields"] == {"cursor": ["This cursor is not valid."]}


def test_a_cursor_the_api_gave_still_pages_on(api):
    CustomerFactory.create_batch(3)
    first = api.get("/api/v1/customers/", {"page_size": 2}).json()
    second = api.get(first["next"].removeprefix("http://testserver")).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


def test_a_database_fault_answers_json_503(api, monkeypatch):
    from django.db import OperationalError

    from api.views import customers

    def broken(*args, **kwargs):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(customers.CustomerList, "get", broken)
    response = api.get("/api/v1/customers/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "unavailable"


def test_an_unhandled_error_answers_json_500(api, monkeypatch):
    from api.views import customers

    monkeypatch.setattr(customers.CustomerList, "get", lambda *a, **k: 1 / 0)
    response = api.get("/api/v1/customers/")
    assert response.status_code == 500 and response.json()["error"]["code"] == "server_error"
