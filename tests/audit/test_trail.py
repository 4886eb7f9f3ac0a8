"""The chain: every change leaves an entry, entries link by SHA-256, and tampering of any kind is found."""

import threading
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from audit.models import AuditEntry, AuditHead
from audit.trail import GENESIS, entry_hash
from audit.verify import chain_break, record_breaks
from customers import services as customers
from customers.models import Customer
from feedback import workflow
from feedback.models import ComplaintCase, CorrectiveAction
from surveys import building
from surveys.models import Survey
from tests.factories import make_survey, quality_manager
from tests.helpers import require

pytestmark = pytest.mark.django_db


@contextmanager
def as_database_owner():
    """What only the database's owner could do: switch the trigger off (on PostgreSQL) and write to the trail."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_immutable")
        cursor.execute("ALTER TABLE audit_audithead DISABLE TRIGGER audit_head_forward")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_immutable")
        cursor.execute("ALTER TABLE audit_audithead ENABLE TRIGGER audit_head_forward")


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_entries_chain_from_the_genesis_and_say_who_what_before_and_after():
    qm = quality_manager(username="lan")
    survey = building.survey_create(owner=qm, kind="nps", title_en="A", title_vi="Á")
    building.survey_update(survey=survey, title_en="B", reason="typo")
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.hash and entry.hash == entry_hash(entry)
    last = entries[-1]
    assert (last.record_type, last.record_id, last.action) == ("surveys.survey", str(survey.pk), "update")
    assert last.changes == {"title_en": ["A", "B"]} and last.reason == "typo"
    assert AuditHead.objects.get().hash == last.hash
    assert "Chain intact" in verify()


def test_altering_an_entry_is_found_and_named():
    survey = make_survey()
    building.survey_update(survey=survey, title_en="Changed")
    target = AuditEntry.objects.order_by("seq")[1]
    with as_database_owner():
        AuditEntry.objects.filter(pk=target.pk).update(reason="nothing to see")
    with translation.override("en"):
        broken = chain_break()
    assert broken is not None and broken.seq == target.seq and "altered" in broken.message
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        verify()


def test_removing_or_replacing_entries_is_found():
    survey = make_survey()
    for n in range(3):
        building.survey_update(survey=survey, title_en=f"T{n}")
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    with as_database_owner():
        AuditEntry.objects.filter(seq=seqs[2]).delete()
    with translation.override("en"):
        broken = chain_break()
    assert broken is not None and broken.seq == seqs[2] and "missing" in broken.message
    # The last entries removed: the head still remembers how long the chain was.
    with as_database_owner():
        AuditEntry.objects.filter(seq__gte=seqs[2]).delete()
    with translation.override("en"):
        broken = chain_break()
    assert broken is not None and "removed" in broken.message
    # An entry replaced by one computed afresh (a valid hash of new content) no longer follows its predecessor.
    last = AuditEntry.objects.order_by("-seq").first()
    with as_database_owner():
        AuditEntry.objects.filter(seq__gte=seqs[1]).delete()
    forged = AuditEntry(**{f.attname: getattr(last, f.attname) for f in AuditEntry._meta.fields if f.attname != "id"})
    forged.seq, forged.prev_hash, forged.reason = seqs[1], "f" * 64, "forged"
    forged.hash = entry_hash(forged)
    with as_database_owner():
        forged.save()
        AuditHead.objects.update(seq=forged.seq, hash=forged.hash)
    with translation.override("en"):
        broken = chain_break()
    assert broken is not None and broken.seq == seqs[1] and "does not follow" in broken.message


def test_an_audited_field_changed_directly_in_the_database_is_found():
    customer = customers.customer_create(name="Lan", email="lan@example.com", segment="retail")
    case = workflow.case_create(channel="phone", description="Trễ", contact_name="Lan")
    assert record_breaks() == []
    Customer.objects.filter(pk=customer.pk).update(segment="vip")
    ComplaintCase.objects.filter(pk=case.pk).update(status="closed")
    with translation.override("en"):
        breaks = record_breaks()
    assert len(breaks) == 2
    texts = " ".join(str(b) for b in breaks)
    assert f"#{customer.pk}" in texts and "segment" in texts and "status" in texts
    with pytest.raises(CommandError, match="changed outside the trail"):
        verify()


def test_a_record_deleted_outside_the_trail_is_found():
    customer = customers.customer_create(name="Lan", email="lan@example.com")
    Customer.objects.filter(pk=customer.pk).delete()
    with translation.override("en"):
        assert any("deleted outside the trail" in str(b) for b in record_breaks())


def test_a_record_made_outside_the_trail_is_found():
    # A complaint case, a corrective action's effectiveness review or a customer inserted straight into the database
    # (a case "closed on time" that lifts the on-time share, a forged "effective" review) left no entry at all, and
    # audit_verify said "Every audited record matches the trail": it only compared records the trail had seen.
    from feedback import corrective
    from feedback.models import EffectivenessReview

    qm = quality_manager()
    case = workflow.case_create(channel="phone", description="Trễ", contact_name="Lan")
    action = corrective.action_create(owner=qm, title="Giao hàng trễ", nonconformity="Trễ hàng")
    assert record_breaks() == []
    forged_case = ComplaintCase.objects.get(pk=case.pk)
    forged_case.pk, forged_case.reference = None, "CMP-2026-999999"
    forged_case.save()
    forged_review = EffectivenessReview.objects.create(
        action=CorrectiveAction.objects.get(pk=action.pk),
        method="m",
        evidence="e",
        reviewer=qm,
        reviewed_on=timezone.localdate(),
        result="effective",
    )
    forged_customer = Customer.objects.create(name="Giả", email="gia@example.com")
    with translation.override("en"):
        texts = [str(b) for b in record_breaks()]
    assert len(texts) == 3, texts
    for record in (forged_case, forged_review, forged_customer):
        assert any(f"#{record.pk} has no entry in the trail" in t for t in texts), texts
    with pytest.raises(CommandError, match="changed outside the trail"):
        verify()


def test_personal_data_never_enters_the_trail_in_clear():
    customer = customers.customer_create(name="Nguyễn Thị Lan", email="lan@example.com", phone="0901")
    customers.customer_update(customer=customer, email="lan2@example.com")
    text = str(list(AuditEntry.objects.values_list("changes", "record_label")))
    assert "Lan" not in text and "lan@example.com" not in text and "lan2@" not in text and "0901" not in text
    change = AuditEntry.objects.filter(record_type="customers.customer").latest("seq").changes
    assert set(change) == {"email"} and change["email"][0] != change["email"][1]
    # Still checkable: the stored value's digest matches the trail's.
    assert record_breaks() == []


@pytest.mark.integration
def test_the_application_role_cannot_rewrite_the_trail():
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    make_survey()
    for sql in ("UPDATE audit_auditentry SET reason = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    # Nor rewind the chain's head to hide entries removed from its end.
    for sql in ("UPDATE audit_audithead SET seq = seq - 1", "DELETE FROM audit_audithead"):
        with (
            pytest.raises(DatabaseError, match="only moves forward"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEntry.objects.filter(reason="x").count() == 0 and AuditEntry.objects.exists()
    assert chain_break() is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_transactions_appending_at_once_do_not_fork_the_chain():
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    survey = make_survey()
    barrier = threading.Barrier(4)
    errors = []

    def edit(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(5):
                building.survey_update(survey=Survey.objects.get(pk=survey.pk), intro_en=f"{n}-{i}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert AuditEntry.objects.filter(record_type="surveys.survey", action="update").count() == 20
    assert chain_break() is None


def test_a_field_empty_when_the_record_was_made_and_set_directly_later_is_found():
    # A new case has no closing time and no assignee; its "create" entry lists only the fields it set. Closing it
    # behind the trail's back (closed_at and a resolution written in the database) must be found like any change.
    case = workflow.case_create(channel="phone", description="Trễ", contact_name="Lan")
    assert case.closed_at is None and record_breaks() == []
    from django.utils import timezone

    ComplaintCase.objects.filter(pk=case.pk).update(closed_at=timezone.now())
    with translation.override("en"):
        breaks = [str(b) for b in record_breaks()]
    assert len(breaks) == 1 and f"#{case.pk}" in breaks[0] and "closed" in breaks[0]
    with pytest.raises(CommandError, match="changed outside the trail"):
        verify()


def test_a_value_recorded_in_clear_before_its_field_became_a_digest_still_verifies(monkeypatch):
    # A corrective action's text entered the trail in clear until it was kept as a digest (it can quote the
    # customer); entries are never rewritten, so verify compares the old clear value by its digest.
    import dataclasses

    from audit import trail
    from feedback import corrective

    spec = trail._REGISTRY["feedback.correctiveaction"]
    monkeypatch.setitem(trail._REGISTRY, "feedback.correctiveaction", dataclasses.replace(spec, personal=frozenset()))
    action = corrective.action_create(owner=quality_manager(), title="Giao hàng trễ", nonconformity="Trễ hàng")
    assert AuditEntry.objects.get(record_id=str(action.pk), action="create").changes["title"][1] == "Giao hàng trễ"
    monkeypatch.setitem(trail._REGISTRY, "feedback.correctiveaction", spec)
    assert record_breaks() == []
    CorrectiveAction.objects.filter(pk=action.pk).update(title="Đã sửa ngoài nhật ký")
    with translation.override("en"):
        assert [b.seq for b in record_breaks()] and "title" in str(record_breaks()[0])
