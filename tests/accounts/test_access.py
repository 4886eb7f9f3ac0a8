"""Every staff URL refuses anonymous users (to login) and users without the role (403)."""

from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import make_invitation

pytestmark = pytest.mark.django_db

# URL names a customer (anonymous) may open, and the account pages every visitor needs.
PUBLIC = {
    "respond",
    "respond_thanks",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "healthz",
    "readyz",
    "complaint_form",
    "case_track",
    "unsubscribe",
    "respond_public",
    "respond_public_thanks",
    "brand_logo",  # the logo on customers' pages and emails
    "contact_confirm",
    "api_docs",  # the API's documentation and schema: no data in them
    "api_schema",
}
# The REST API (api/): no session, an API key; without one every endpoint answers 401 JSON (tests/api/).
API_ENDPOINTS = {
    "api_customers",
    "api_customer",
    "api_customer_erase",
    "api_customer_by_external_id",
    "api_invitations",
    "api_invitation",
    "api_responses",
    "api_response",
    "api_cases",
    "api_case",
    "api_aggregates",
    "api_surveys",
    "api_categories",
}
# Pages for anyone signed in with a role (staff or quality manager).
STAFF_PAGES = {
    "home",
    "case_list",
    "case_create",
    "case_detail",
    "case_edit",
    "case_transition",
    "case_assign",
    "case_assess",
    "case_not_accepted",
    "case_note",
    "case_message",
    "action_list",
    "action_detail",
    "item_add",
    "item_status",
    "evidence_upload",
    "evidence_download",
    "action_8d_pdf",
    "theme_comments",
    "comment_correct",
}
SIGNED_IN = {"password_change", "password_change_done"}
# Everything else under our apps is for quality managers.


def _named_patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            found += _named_patterns(entry, prefix + str(entry.pattern))
        elif entry.name:
            found.append((entry.name, entry))
    return found


def _url(name: str, pattern: URLPattern, ids: dict) -> str:
    kwargs = {key: ids.get(key, 1) for key in pattern.pattern.converters}
    if "reference" in kwargs:
        kwargs["reference"] = ids["case"] if name.startswith("case") else ids["action"]
    if name.startswith("category"):
        kwargs = {key: ids["category"] for key in kwargs}
    if name.startswith("campaign_") and name != "campaign_new":
        kwargs = {key: ids["campaign"] for key in kwargs}
    if name.startswith("customer_") and "pk" in kwargs:
        kwargs = {key: ids["customer"] for key in kwargs}
    if name.startswith("objective_") and "pk" in kwargs:
        kwargs = {key: ids["objective"] for key in kwargs}
    if name.startswith("export_") and "pk" in kwargs:
        kwargs = {key: ids["export"] for key in kwargs}
    if name.startswith("review_") and "pk" in kwargs:
        kwargs = {key: ids["review"] for key in kwargs}
    if name.startswith("analysis_") and "pk" in kwargs:
        kwargs = {key: ids["analysis"] for key in kwargs}
    if name.startswith("theme_") and "pk" in kwargs:
        kwargs = {key: ids.get("theme", 1) for key in kwargs}
    if name.startswith("evidence_") and "pk" in kwargs:
        kwargs["pk"] = ids["evidence"]
    if name == "comment_correct":
        kwargs = {key: ids.get("comment", 1) for key in kwargs}
    if name.startswith("webhook_") and "pk" in kwargs:
        kwargs = {key: ids["webhook"] for key in kwargs}
    if name.startswith("webhook_") and "delivery_id" in kwargs:
        kwargs = {key: ids["webhook_delivery"] for key in kwargs}
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def ids():
    from datetime import date

    from django.utils import timezone

    from feedback import corrective, workflow
    from feedback.models import Category
    from surveys.models import Campaign
    from surveys.public import public_link_enable
    from tests.factories import quality_manager

    invitation, _token = make_invitation()
    survey = public_link_enable(survey=invitation.survey)
    case = workflow.case_create(channel="phone", description="x", contact_name="k")
    action = corrective.action_create(title="t", nonconformity="n", owner=quality_manager())
    corrective.action_record_containment(action=action, containment="c")
    corrective.action_decide(action=action, needed=True, reason="r")
    corrective.action_record_root_cause(
        action=action,
        root_cause="rc",
        method="other",
        similar_possible=False,
        similar="",
        update_risks=False,
        qms_change=False,
    )
    item = corrective.item_add(action=action, description="d", owner=action.owner, due_date=date.today())
    return {
        "evidence": _evidence(action).pk,
        "pk": survey.pk,
        "question_id": survey.current_version.questions.first().pk,
        "invitation_id": invitation.pk,
        "case": case.reference,
        "action": action.reference,
        "item_id": item.pk,
        "step": "containment",
        "category": Category.objects.get_or_create(name_vi="Khác", name_en="Other")[0].pk,
        "token": "x" * 43,
        "campaign": Campaign.objects.create(
            survey=survey, name="c", created_by=action.owner, send_at=timezone.now()
        ).pk,
        "customer": invitation.customer_id,
        "objective": _objective(survey, action.owner).pk,
        "export": _export(survey, action.owner).pk,
        "review": _review(action.owner).pk,
        "analysis": _analysis(survey, action.owner).pk,
        **_insight(survey),
        **_webhook(action.owner),
    }


def _webhook(owner):
    from webhooks.events import events_record
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    # Registered directly: the walk needs no receiver, and a public address needs no DNS lookup here.
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.216.34/hook", events=["case.opened"], secret="s")
    events_record([("case.opened", "walk", {})])
    return {"webhook": endpoint.pk, "webhook_delivery": WebhookDelivery.objects.get(endpoint=endpoint).pk}


def _insight(survey):
    from insight import pipeline, services
    from surveys.models import Answer, Response

    theme = services.theme_create(name_vi="Giao hàng", name_en="Delivery", examples="giao hàng chậm")
    response = Response.objects.create(survey=survey, version=survey.current_version, language="vi")
    comment = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=comment, text="giao hàng chậm quá")
    pipeline.comments_sweep()
    return {"theme": theme.pk, "comment": response.answers.get().insight.pk}


def _evidence(action):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from feedback.evidence import evidence_add

    return evidence_add(
        action=action,
        step="investigation",
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
        uploaded_by=action.owner,
    )


def _review(owner):
    from reports.review import review_create

    return review_create(title="r", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), prepared_by=owner)


def _analysis(survey, owner):
    from reports.analysis import analysis_save
    from reports.dashboard import Filters

    filters = Filters(survey=survey, start=date(2026, 1, 1), end=date(2026, 6, 30))
    return analysis_save(filters=filters, title="a", conclusion="c", user=owner)


def _objective(survey, owner):
    from reports.models import QualityObjective

    return QualityObjective.objects.create(
        title="o", metric="nps", target=10, survey=survey, start="2026-01-01", due="2026-12-31", owner=owner, method="m"
    )


def _export(survey, owner):
    from reports.exports import export_create, export_run

    # Written here (the task would run on commit): the walk downloads the finished file.
    job = export_create(user=owner, survey=survey, start=date(2026, 1, 1), end=date(2026, 12, 31), segment="",
                        fmt="csv", language="vi")  # fmt: skip
    export_run(job.pk)
    return job


def staff_urls(ids):
    return [
        (name, _url(name, pattern, ids)) for name, pattern in _named_patterns(get_resolver()) if name in STAFF_PAGES
    ]


def quality_manager_urls(ids):
    urls = []
    for name, pattern in _named_patterns(get_resolver()):
        if name in PUBLIC | STAFF_PAGES | SIGNED_IN | API_ENDPOINTS:
            continue
        urls.append((name, _url(name, pattern, ids)))
    return urls


def test_the_walk_covers_the_builder(ids):
    names = {name for name, _url in quality_manager_urls(ids)}
    assert {
        "survey_list",
        "survey_create",
        "survey_detail",
        "question_add",
        "invitation_new",
        "customer_list",
        "action_create",
        "category_list",
        "time_limits",
        "campaign_new",
        "campaign_detail",
        "campaign_progress",
        "customer_import",
        "customer_erase",
        "survey_public_link",
        "survey_qr",
        "apikey_list",
        "apikey_revoke",
        "apicall_list",
        "webhook_list",
        "webhook_create",
        "webhook_detail",
        "webhook_edit",
        "webhook_toggle",
        "webhook_roll_secret",
        "webhook_delivery",
        "webhook_resend",
    } <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_api_endpoints_refuse_a_session_without_a_key(ids, qm_client, method):
    """A signed-in quality manager's session is not an API key: the API answers 401, in JSON."""
    found = [(name, _url(name, pattern, ids)) for name, pattern in _named_patterns(get_resolver())
             if name in API_ENDPOINTS]  # fmt: skip
    assert {name for name, _url in found} == API_ENDPOINTS
    for name, url in found:
        response = getattr(qm_client, method)(url)
        assert response.status_code in (401, 405), f"{name} answered {response.status_code}"
        assert response["Content-Type"] == "application/json", name


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_login_from_every_staff_page(ids, method):
    client = Client()
    for name, url in quality_manager_urls(ids) + [
        ("home", reverse("home")),
        ("password_change", reverse("password_change")),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code in (302, 405), name
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_users_get_403_on_quality_manager_pages(ids, staff_client, method):
    for name, url in quality_manager_urls(ids):
        response = getattr(staff_client, method)(url)
        assert response.status_code in (403, 405), f"{name} answered {response.status_code}"
        if method == "get" and response.status_code == 403:
            assert "không có quyền" in response.content.decode()


def test_staff_reach_the_staff_pages(ids, staff_client, staff):
    from feedback.models import ComplaintCase

    # Their own case: another staff member's is refused (tests/security/test_object_policy.py).
    ComplaintCase.objects.filter(reference=ids["case"]).update(assignee=staff)
    for name, url in staff_urls(ids):
        response = staff_client.get(url)
        assert response.status_code in (200, 405), f"{name} answered {response.status_code}"


def test_users_without_a_role_get_403_on_staff_pages(ids):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    for name, url in staff_urls(ids):
        assert client.get(url).status_code in (403, 405), name
        assert client.post(url).status_code == 403, name


def test_quality_managers_reach_every_page(ids, qm_client):
    for name, url in quality_manager_urls(ids) + staff_urls(ids):
        response = qm_client.get(url)
        assert response.status_code in (200, 405), f"{name} answered {response.status_code}"


def test_staff_reach_their_home_and_quality_managers_theirs(staff_client, qm_client):
    assert "Việc của tôi" in staff_client.get(reverse("home")).content.decode()
    assert "Khảo sát đang hoạt động" in qm_client.get(reverse("home")).content.decode()


def test_user_without_any_role_gets_403_on_home(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    assert client.get(reverse("home")).status_code == 403


def test_login_and_logout(qm):
    client = Client()
    page = client.post(reverse("login"), {"username": "qm", "password": "correct horse battery staple"})
    assert page.status_code == 302 and page["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_an_error_and_keeps_the_username(qm):
    page = Client().post(reverse("login"), {"username": "qm", "password": "nope"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="qm"' in html and "alert" in html


def test_password_reset_mail_links_to_site_url_not_the_host_header(qm, mailoutbox, settings):
    settings.SITE_URL = "https://survey.example.org"
    Client().post(reverse("password_reset"), {"email": qm.email}, HTTP_HOST="localhost")
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "https://survey.example.org/accounts/password/reset/" in body and "localhost" not in body


def test_password_change(qm_client, qm):
    page = qm_client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "a new long passphrase 42",
            "new_password2": "a new long passphrase 42",
        },
    )
    assert page.status_code == 302
    qm.refresh_from_db()
    assert qm.check_password("a new long passphrase 42")
