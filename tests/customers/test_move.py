"""Customers moved from `surveys` into their own app: the data stays where it was, and so does its history."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import AuditEntry
from audit.selectors import TrailFilter, entries_for, type_label
from audit.trail import audit_append, audit_entry_for
from audit.verify import chain_break, record_breaks
from customers import services
from customers.models import Customer, ErasureRecord
from feedback.models import ComplaintCase
from surveys.models import ContactClaim, Invitation, Response
from tests.factories import quality_manager
from tests.helpers import require


def _links() -> dict[str, set[tuple[int, int | None]]]:
    """Every row that points at a customer, with the customer it points at."""
    return {
        "customers": {(pk, None) for pk in Customer.objects.values_list("pk", flat=True)},
        "erasures": set(ErasureRecord.objects.values_list("pk", "customer_id")),
        "invitations": set(Invitation.objects.values_list("pk", "customer_id")),
        "responses": set(Response.objects.values_list("pk", "customer_id")),
        "cases": set(ComplaintCase.objects.values_list("pk", "customer_id")),
        "claims": set(ContactClaim.objects.values_list("pk", "customer_id")),
    }


def _dangling_foreign_keys() -> list:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check")
            return cursor.fetchall()
        # PostgreSQL: the constraints still exist and still point at the customers' table.
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = 'surveys_customer'::regclass ORDER BY 1"
        )
        pointing = {row[0] for row in cursor.fetchall()}
        missing = {"surveys_invitation", "surveys_response", "surveys_erasurerecord", "feedback_complaintcase"}
        return sorted(missing - pointing)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_and_foreign_key_of_a_database_with_demo_data():
    # PostgreSQL, where production keeps its data and its foreign-key constraints (the demo data takes minutes to
    # load, too long for the fast suite on SQLite).
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    call_command("seed_demo", customers=40, verbosity=0)
    qm = quality_manager()
    services.customer_erase(customer=Customer.objects.filter(erased_at__isnull=True).first(), actor=qm, reason="thư")
    before = _links()
    assert before["invitations"] and before["responses"] and before["erasures"]

    # Back to the schema before the move, as a database of the previous release has it.
    executor = MigrationExecutor(connection)
    executor.migrate([("customers", None)])
    executor.loader.build_graph()
    old = executor.loader.project_state([("surveys", "0017_invitation_delivery_lease")]).apps
    assert ContentType.objects.filter(app_label="surveys", model="customer").exists()
    # A customer written by the previous release's models, with an invitation and an erasure of its own.
    old_customer = old.get_model("surveys", "Customer").objects.create(name="Chị Lan", email="lan@example.com")
    old_survey = old.get_model("surveys", "Survey").objects.order_by("pk").first()
    old.get_model("surveys", "Invitation").objects.create(
        survey_id=old_survey.pk, customer_id=old_customer.pk, token_hash="f" * 64, expires_at="2030-01-01T00:00Z"
    )
    old.get_model("surveys", "ErasureRecord").objects.create(
        customer_id=old_customer.pk, erased_by_id=qm.pk, reason="x"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    after = _links()
    for name, rows in before.items():
        assert rows <= after[name], name  # nothing lost, every link the same
    assert Customer.objects.get(pk=old_customer.pk).invitations.count() == 1
    assert ErasureRecord.objects.filter(customer_id=old_customer.pk).exists()
    assert _dangling_foreign_keys() == []
    # Admin log entries and permissions keep pointing at the model where it lives now.
    assert ContentType.objects.get_for_model(Customer).app_label == "customers"
    assert not ContentType.objects.filter(app_label="surveys", model="customer").exists()


@pytest.mark.django_db
def test_entries_written_before_the_move_belong_to_the_same_customer():
    customer = services.customer_create(name="Anh Minh", email="minh@example.com")
    # An entry as the previous release wrote it: the same record under its former type name, with its old name.
    entry = audit_entry_for(customer, action="update", before={"segment": "x"})
    entry.record_type = "surveys.customer"
    audit_append([entry])
    services.customer_update(customer=customer, name="Anh Minh Trần")

    assert chain_break() is None
    assert record_breaks() == []  # read apart, the old entry's name would differ from the row's
    shown = entries_for(customer)
    assert {e.record_type for e in shown} == {"surveys.customer", "customers.customer"}
    filtered = TrailFilter.from_query({"type": "customers.customer", "record": str(customer.pk)}).query()
    assert filtered.filter(record_type="surveys.customer").exists()
    assert type_label("surveys.customer") == type_label("customers.customer")
    assert AuditEntry.objects.filter(record_type="surveys.customer").count() == 1
