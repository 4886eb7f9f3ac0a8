"""Customers, responses, cases and aggregates through the API: the same services and figures as the web pages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from customers.models import Customer, ErasureRecord
from feedback.models import ComplaintCase
from reports import stats
from reports.rollup import rollup_rebuild
from tests.factories import CustomerFactory, make_response, make_survey

pytestmark = pytest.mark.django_db


def _all_pages(client, url, params=None):
    seen, pages = [], 0
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        pages += 1
        seen += [row["id"] for row in response.json()["results"]]
        following = response.json()["next"]
        if not following:
            return seen, pages
        response = client.get(following)


def test_customers_are_created_audited_and_listed_with_filters_in_cursor_pages(api, read_api, qm):
    made = api.post("/api/v1/customers/", {"name": "Lê An", "email": "An@Example.com", "segment": "vip"})
    assert made.status_code == 201 and made.json()["email"] == "an@example.com"
    entry = AuditEntry.objects.get(record_type="customers.customer", record_id=str(made.json()["id"]))
    assert (entry.via, entry.actor_id, entry.action) == ("api", qm.pk, "create")
    for i in range(7):
        CustomerFactory(segment="retail", language="en" if i % 2 else "vi")
    ids, pages = _all_pages(read_api, "/api/v1/customers/", {"page_size": 3})
    assert pages == 3 and len(ids) == len(set(ids)) == 8 and ids == sorted(ids, reverse=True)
    english, _pages = _all_pages(read_api, "/api/v1/customers/", {"language": "en", "segment": "retail"})
    assert set(english) == set(Customer.objects.filter(language="en", segment="retail").values_list("id", flat=True))
    assert read_api.get("/api/v1/customers/", {"email": "AN@example.com"}).json()["results"][0]["name"] == "Lê An"


def test_a_duplicate_external_id_is_refused_and_nothing_changes(api):
    CustomerFactory(external_id="C-1")
    count = Customer.objects.count()
    response = api.post("/api/v1/customers/", {"name": "B", "external_id": "C-1"})
    assert response.status_code == 400
    # The field is named, as every other field error is: a client need not read the message to know which.
    assert response.json()["error"]["fields"] == {"external_id": ["Another customer already has this external ID."]}
    assert Customer.objects.count() == count


def test_upsert_by_external_id_creates_then_updates(api):
    first = api.put("/api/v1/customers/by-external-id/CRM-42/", {"name": "Phạm C", "email": "c@example.com"})
    assert first.status_code == 201
    second = api.put("/api/v1/customers/by-external-id/CRM-42/", {"name": "Phạm Văn C", "segment": "vip"})
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    customer = Customer.objects.get(external_id="CRM-42")
    assert (customer.name, customer.segment) == ("Phạm Văn C", "vip")
    assert AuditEntry.objects.filter(record_type="customers.customer", record_id=str(customer.pk)).count() == 2
    bad = api.put("/api/v1/customers/by-external-id/CRM-42/", {"name": ""})
    assert bad.status_code == 400 and "name" in bad.json()["error"]["fields"]
    assert Customer.objects.get(pk=customer.pk).name == "Phạm Văn C"


def test_the_external_id_in_the_url_is_trimmed_and_checked_as_in_a_body(api):
    # Stored trimmed (the body's CharField trims): the same id with a space around it is the same customer, not a
    # second "CRM-7" refused as a duplicate.
    created = api.post("/api/v1/customers/", {"name": "Lê E", "external_id": " CRM-7 "})
    assert created.status_code == 201 and created.json()["external_id"] == "CRM-7"
    update = api.put("/api/v1/customers/by-external-id/CRM-7%20/", {"name": "Lê Văn E"})
    assert update.status_code == 200 and update.json()["id"] == created.json()["id"]
    assert api.get("/api/v1/customers/by-external-id/%20CRM-7/").json()["name"] == "Lê Văn E"
    assert [c["id"] for c in api.get("/api/v1/customers/", {"external_id": "CRM-7 "}).json()["results"]] == [
        created.json()["id"]
    ]
    count = Customer.objects.count()
    # A blank id matches nobody and made a new customer on every PUT; a tab got in unchecked.
    for bad in ("%20%20", "a%09b", "x" * 101):
        response = api.put(f"/api/v1/customers/by-external-id/{bad}/", {"name": "X"})
        assert response.status_code == 400 and "external_id" in response.json()["error"]["fields"], bad
    assert Customer.objects.count() == count


def test_an_external_id_composed_or_decomposed_is_one_customer(api, qm):
    import unicodedata
    from urllib.parse import quote

    survey = make_survey(owner=qm)
    composed = "KH-Hoà-01"
    decomposed = unicodedata.normalize("NFD", composed)  # what a Mac keyboard or some CRMs send
    assert composed != decomposed
    first = api.post("/api/v1/customers/", {"name": "Hoà", "external_id": decomposed})
    assert first.status_code == 201 and first.json()["external_id"] == composed
    again = api.put(f"/api/v1/customers/by-external-id/{quote(composed)}/", {"name": "Nguyễn Thị Hoà"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert api.get(f"/api/v1/customers/by-external-id/{quote(decomposed)}/").json()["id"] == first.json()["id"]
    invitation = api.post("/api/v1/invitations/", {"survey": survey.pk, "customer_external_id": decomposed})
    assert invitation.status_code == 201 and invitation.json()["customer"] == first.json()["id"]
    assert Customer.objects.filter(name__contains="Hoà").count() == 1


def test_an_external_id_with_a_slash_can_be_upserted_and_read(api):
    first = api.put("/api/v1/customers/by-external-id/ORD/2026/7/", {"name": "Hồ F"})
    assert first.status_code == 201 and first.json()["external_id"] == "ORD/2026/7"
    again = api.put("/api/v1/customers/by-external-id/ORD%2F2026%2F7/", {"name": "Hồ Văn F"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert api.get("/api/v1/customers/by-external-id/ORD/2026/7/").json()["name"] == "Hồ Văn F"


@pytest.mark.parametrize("checked", [True, False], ids=["check-sees-it", "insert-fails"])
def test_an_upsert_racing_another_for_a_new_id_updates_the_row_the_other_made(api, monkeypatch, checked):
    # What a second CRM worker sees on PostgreSQL: its lookup found nobody, then the first worker's row
    # committed, before its model check (a ValidationError) or after it (the unique index's IntegrityError).
    from django.db.models import QuerySet

    CustomerFactory(name="First worker", external_id="RACE-1")
    first, looked = QuerySet.first, []

    def lookup_before_the_other_committed(queryset):
        if queryset.model is Customer and not looked:
            looked.append(True)
            return None
        return first(queryset)

    monkeypatch.setattr(QuerySet, "first", lookup_before_the_other_committed)
    if not checked:
        monkeypatch.setattr(Customer, "full_clean", lambda self, **kwargs: None)
    response = api.put("/api/v1/customers/by-external-id/RACE-1/", {"name": "Second worker"})
    assert looked and response.status_code == 200, response.content
    assert list(Customer.objects.filter(external_id="RACE-1").values_list("name", flat=True)) == ["Second worker"]


def test_customer_filters_are_checked_and_read_as_the_schema_says(api, read_api):
    from customers.services import customer_opt_out

    out = CustomerFactory(language="en")
    customer_opt_out(customer=out)
    kept = CustomerFactory(language="vi")
    listed = lambda **params: {c["id"] for c in read_api.get("/api/v1/customers/", params).json()["results"]}  # noqa: E731
    # A boolean as a client writes one: "opted_out=1" was ignored and listed the opted-out customers too.
    assert listed(opted_out="1") == listed(opted_out="true") == {out.pk}
    assert kept.pk in listed(opted_out="0") and out.pk not in listed(opted_out="False")
    for bad in ({"opted_out": "maybe"}, {"language": "fr"}, {"customer_type": "partner"}):
        response = read_api.get("/api/v1/customers/", bad)
        assert response.status_code == 400 and set(response.json()["error"]["fields"]) == set(bad), bad
    vi = read_api.get("/api/v1/customers/", {"language": "fr"}, **{"Accept-Language": "vi"})
    assert "không phải là một lựa chọn hợp lệ" in vi.json()["error"]["fields"]["language"][0]


def test_erasure_goes_through_the_service_and_is_refused_twice(api, qm):
    customer = CustomerFactory(name="Đỗ D", email="d@example.com")
    assert api.post(f"/api/v1/customers/{customer.pk}/erase/", {}).status_code == 400
    response = api.post(f"/api/v1/customers/{customer.pk}/erase/", {"reason": "email of 3 May from the customer"})
    assert response.status_code == 200 and response.json()["erased"] is True and response.json()["email"] == ""
    assert ErasureRecord.objects.get(customer=customer).erased_by == qm
    again = api.post(f"/api/v1/customers/{customer.pk}/erase/", {"reason": "again"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert api.post("/api/v1/customers/999999/erase/", {"reason": "x"}).status_code == 404


def test_responses_filter_by_survey_period_segment_and_band_with_answers_in_detail(read_api, qm):
    survey = make_survey(owner=qm)
    vip = CustomerFactory(segment="vip")
    now = timezone.now()
    low = make_response(survey, 3, customer=vip, at=now - timedelta(days=1))
    high = make_response(survey, 10, at=now - timedelta(days=1))
    old = make_response(survey, 9, at=now - timedelta(days=40))
    make_response(make_survey(owner=qm), 5)

    def ids(**params):
        return [r["id"] for r in read_api.get("/api/v1/responses/", {"survey": survey.pk, **params}).json()["results"]]

    assert set(ids()) == {low.pk, high.pk, old.pk}
    start = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert set(ids(start=start)) == {low.pk, high.pk}
    assert ids(segment="vip") == [low.pk]
    assert ids(band="detractor") == [low.pk]
    assert set(ids(band="promoter")) == {high.pk, old.pk}
    assert ids(score_min=10) == [high.pk]
    detail = read_api.get(f"/api/v1/responses/{low.pk}/").json()
    assert [(a["kind"], a["number"]) for a in detail["answers"]] == [("nps", 3)]
    bad = read_api.get("/api/v1/responses/", {"start": "2026-13-01", "band": "nope"})
    assert bad.status_code == 400 and {"start", "band"} <= set(bad.json()["error"]["fields"])
    ids_all, pages = _all_pages(read_api, "/api/v1/responses/", {"page_size": 1, "survey": survey.pk})
    assert pages == 3 and len(set(ids_all)) == 3


def test_a_case_is_logged_from_a_helpdesk_and_read_with_its_timeline(api, read_api, qm):
    customer = CustomerFactory(external_id="HD-7")
    response = api.post(
        "/api/v1/cases/",
        {"channel": "phone", "description": "Giao hàng trễ 3 ngày", "customer_external_id": "HD-7",
         "severity": "high"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    case = ComplaintCase.objects.get(reference=reference)
    assert (case.customer, case.severity, case.created_by, case.status) == (customer, "high", qm, "received")
    read = read_api.get(f"/api/v1/cases/{reference}/").json()
    assert read["status"] == "received" and read["timeline"][0]["kind"] == "created"
    assert read_api.get("/api/v1/cases/CMP-1999-000000/").status_code == 404
    # A reference in lower case (typed, or copied from a system that lowers ids) is the same case.
    assert read_api.get(f"/api/v1/cases/{reference.lower()}/").json()["reference"] == reference
    count = ComplaintCase.objects.count()
    bad = api.post("/api/v1/cases/", {"channel": "survey", "description": ""})
    assert bad.status_code == 400 and {"channel", "description"} <= set(bad.json()["error"]["fields"])
    nobody = api.post("/api/v1/cases/", {"channel": "phone", "description": "x"})
    assert nobody.status_code == 400 and "contact_name" in nobody.json()["error"]["fields"]
    assert ComplaintCase.objects.count() == count


def test_aggregates_are_the_rollups_figures_with_n_and_intervals(read_api, qm, settings):
    settings.REPORTS_MIN_N = 5
    survey = make_survey(owner=qm)
    vip = CustomerFactory(segment="vip")
    at = timezone.make_aware(datetime(2026, 3, 10, 10))
    for score in [10, 10, 9, 8, 3, 2]:
        make_response(survey, score, customer=vip, at=at)
    for score in [10, 0]:
        make_response(survey, score, at=at + timedelta(days=31))
    rollup_rebuild()
    body = read_api.get("/api/v1/aggregates/", {"survey": survey.pk, "start": "2026-03-01", "end": "2026-04-30"}).json()
    expected = stats.nps_estimate(4, 3, 8, min_n=5)
    assert body["measure"] == "nps" and body["total"]["n"] == 8
    assert body["total"]["value"] == pytest.approx(expected.value) and body["total"]["low"] == pytest.approx(
        expected.low
    )
    march, april = body["periods"]
    assert (march["label"], march["n"], march["enough"]) == ("03/2026", 6, True)
    assert (april["n"], april["enough"]) == (2, False)
    assert {s["segment"]: s["n"] for s in body["segments"]} == {"vip": 6, "": 2}
    assert read_api.get("/api/v1/aggregates/", {"survey": survey.pk, "start": "2026-05-01",
                                                "end": "2026-04-01"}).status_code == 400  # fmt: skip
    assert read_api.get("/api/v1/aggregates/").status_code == 400


def test_the_schema_is_valid_openapi(read_api, anonymous):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))
    schema = anonymous.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    docs = anonymous.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.content and b"https://" not in docs.content


def test_response_bands_are_the_dashboards_not_the_closed_loop_thresholds(read_api, qm):
    # The survey opens a case for NPS 0–7; a 7 is still a passive in the NPS (and on the dashboard), so the API's
    # "detractor" band holds the 3 only and the 7 is in "passive". It was in "detractor" (and "passive" was 8–8).
    survey = make_survey(owner=qm)
    survey.nps_detractor_max = 7
    survey.save(update_fields=["nps_detractor_max"])
    three, seven, ten = (make_response(survey, score) for score in (3, 7, 10))

    def ids(band):
        return [
            r["id"] for r in read_api.get("/api/v1/responses/", {"survey": survey.pk, "band": band}).json()["results"]
        ]

    assert ids("detractor") == [three.pk]
    assert ids("passive") == [seven.pk]
    assert ids("promoter") == [ten.pk]


def test_the_schema_lists_the_invitation_states_and_skip_reasons():
    from drf_spectacular.generators import SchemaGenerator

    from surveys.models import Invitation

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def values(prop):
        ref = (prop.get("allOf") or prop.get("oneOf") or [prop])[0].get("$ref") or prop.get("$ref")
        return set(components[ref.rsplit("/", 1)[1]]["enum"]) - {None} if ref else set(prop.get("enum", ()))

    invitation = components["Invitation"]["properties"]
    assert values(invitation["state"]) == set(Invitation.Status.values)
    assert values(invitation["skip_reason"]) == set(Invitation.Skip.values)
    assert invitation["skip_reason"].get("nullable") is True


def test_an_integration_looks_up_survey_and_category_ids_by_api(read_api, api, anonymous, qm):
    # The ids POST /invitations/ and POST /cases/ need were only to be found in the web pages.
    from feedback.models import Category

    active = make_survey(kind="csat", owner=qm)
    draft = make_survey(kind="nps", owner=qm, active=False)

    def rows(url, params=None):
        response = read_api.get(url, params or {})
        assert response.status_code == 200, response.content
        return response.json()["results"]

    listed = rows("/api/v1/surveys/")
    shown = {s["id"]: (s["kind"], s["status"]) for s in listed}
    assert shown[active.pk] == ("csat", "active") and shown[draft.pk] == ("nps", "draft")
    only = rows("/api/v1/surveys/", {"status": "active"})
    assert active.pk in {s["id"] for s in only} and draft.pk not in {s["id"] for s in only}
    assert set(listed[0]) == {"id", "kind", "status", "title_vi", "title_en"}
    bad = read_api.get("/api/v1/surveys/", {"status": "open"}, **{"Accept-Language": "vi"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]
    # The category an integration files a case under, then the case filed with it.
    category = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    categories = rows("/api/v1/categories/")
    assert {"id": category.pk, "name_vi": "Giao hàng", "name_en": "Delivery", "active": True} in categories
    filed = api.post("/api/v1/cases/", {"channel": "phone", "description": "Trễ", "contact_name": "K",
                                        "contact_phone": "090", "category": category.pk})  # fmt: skip
    assert filed.status_code == 201, filed.content
    assert anonymous.get("/api/v1/surveys/").status_code == 401
    assert anonymous.get("/api/v1/categories/").status_code == 401
