"""Item 9: staff changing each other's work. A walk over every staff URL, for each role, on another staff
member's objects: reads are open to all staff, changes only to the assignee (or owner) and quality managers."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import get_resolver

from feedback import corrective, workflow
from feedback.models import ActionItem, CaseEvent, ComplaintCase
from tests.accounts.test_access import STAFF_PAGES, _named_patterns, _url
from tests.factories import quality_manager, staff_user

pytestmark = pytest.mark.django_db

# The staff pages that only read; every other staff page changes a case or an action item.
# Comment themes belong to no one: every staff member may read and correct them (tests/accounts/test_access.py
# walks them for each role), so the ownership walk below leaves them out.
UNOWNED = {"theme_comments", "comment_correct"}
READS = {
    "home",
    "case_list",
    "case_detail",
    "action_list",
    "action_detail",
    "case_create",
    "evidence_download",
    "action_8d_pdf",
}
# What each changing page is sent, so that the only reason to refuse is the policy.
POSTS = {
    "case_edit": {"description": "Sửa", "severity": "high", "impact": "one", "language": "vi", "contact_name": "k"},
    "case_transition": {"to_status": "acknowledged"},
    "case_note": {"text": "Ghi chú"},
    "case_message": {"text": "Xin chào"},
    "case_assess": {"severity": "high", "impact": "one", "complexity": "simple", "immediate_action_needed": "no"},
    "case_not_accepted": {"reason": "Không đồng ý"},
    "item_status": {"status": "done"},
    # No file: the owner of an item is let through (and told the file is missing), another staff member is not.
    "evidence_upload": {"step": "effectiveness"},
}


@pytest.fixture
def world():
    manager = quality_manager(username="manager")
    alice, bob = staff_user(username="alice"), staff_user(username="bob")
    case = workflow.case_create(
        channel="phone", description="Giao trễ", contact_name="k", contact_email="k@example.com", assignee=alice
    )
    action = corrective.action_create(title="t", nonconformity="n", owner=manager)
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
    item = corrective.item_add(action=action, description="d", owner=alice, due_date=date(2030, 1, 1))
    ids = {"case": case.reference, "action": action.reference, "item_id": item.pk, "evidence": _evidence(action).pk}
    urls = {
        name: _url(name, pattern, ids)
        for name, pattern in _named_patterns(get_resolver())
        if name in STAFF_PAGES - UNOWNED
    }
    return {"manager": manager, "alice": alice, "bob": bob, "case": case, "item": item, "urls": urls}


def _evidence(action):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from feedback.evidence import evidence_add

    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n")
    return evidence_add(action=action, step="investigation", upload=upload, uploaded_by=action.owner)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _state(world) -> tuple:
    case = ComplaintCase.objects.get(pk=world["case"].pk)
    item = ActionItem.objects.get(pk=world["item"].pk)
    return (case.status, case.description, case.assignee_id, CaseEvent.objects.count(), item.status)


def test_the_walk_covers_every_staff_page(world):
    assert set(world["urls"]) == STAFF_PAGES - UNOWNED
    assert set(world["urls"]) - READS == set(POSTS) | {"case_assign", "item_add"}


def test_another_staff_member_reads_everything_and_changes_nothing(world):
    bob = _client(world["bob"])
    for name in READS:
        assert bob.get(world["urls"][name]).status_code == 200, name
    before = _state(world)
    attempts = {**POSTS, "case_assign": {"assignee": world["bob"].pk}}
    for name, data in attempts.items():
        page = bob.post(world["urls"][name], data)
        assert page.status_code == 403, f"{name} answered {page.status_code}"
        assert "người khác" in page.content.decode(), name  # says why: it is someone else's
    assert bob.get(world["urls"]["case_edit"]).status_code == 403
    # Planning an action item for someone else on a manager's action is refused too; for himself it is allowed.
    refused = bob.post(
        world["urls"]["item_add"], {"description": "x", "owner": world["alice"].pk, "due_date": "2030-01-01"}
    )
    assert refused.status_code == 403
    assert _state(world) == before


@pytest.mark.parametrize("who", ["alice", "manager"])
def test_the_assignee_and_quality_managers_change_it(world, who):
    client = _client(world[who])
    for name, data in POSTS.items():
        page = client.post(world["urls"][name], data)
        assert page.status_code in (200, 302), f"{name} answered {page.status_code} to {who}"
    case = ComplaintCase.objects.get(pk=world["case"].pk)
    assert case.status == "acknowledged" and case.description == "Sửa"
    assert ActionItem.objects.get(pk=world["item"].pk).status == "done"


def test_an_unassigned_case_is_taken_before_it_is_changed(world):
    case = workflow.case_create(channel="phone", description="Mới", contact_name="k")
    bob = _client(world["bob"])
    note = f"/cases/{case.reference}/note/"
    assert bob.post(note, {"text": "x"}).status_code == 403
    assert bob.post(f"/cases/{case.reference}/assign/", {"assignee": world["alice"].pk}).status_code == 403
    assert "Nhận hồ sơ này" in bob.get(f"/cases/{case.reference}/").content.decode()
    assert bob.post(f"/cases/{case.reference}/assign/", {"assignee": world["bob"].pk}).status_code == 302
    assert bob.post(note, {"text": "x"}).status_code == 302
    assert ComplaintCase.objects.get(pk=case.pk).assignee == world["bob"]
