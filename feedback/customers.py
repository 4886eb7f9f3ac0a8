"""What feedback adds to customers: their complaints on the customer page, and erasure of contact details."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from audit.trail import audit_append, audit_entry_for, audit_snapshot
from feedback.models import ComplaintCase
from surveys.customers import customer_erased, customer_panels
from surveys.models import Customer, Response
from surveys.public import contact_confirmed


def complaints_panel(customer: Customer) -> dict[str, Any] | None:
    cases = list(customer.cases.select_related("category").order_by("-received_at")[:50])
    return {"template": "feedback/includes/customer_cases.html", "cases": cases}


@receiver(customer_erased, dispatch_uid="feedback.erase_contact_details")
def erase_contact_details(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # The complaint stays as a quality record; who made it does not. The trail records the removal (as digests).
    cases = list(ComplaintCase.objects.filter(customer=customer))
    before = {case.pk: audit_snapshot(case) for case in cases}
    ComplaintCase.objects.filter(customer=customer).update(contact_name="", contact_email="", contact_phone="")
    for case in cases:
        case.contact_name = case.contact_email = case.contact_phone = ""
    audit_append([e for e in (audit_entry_for(c, action="erase", before=before[c.pk]) for c in cases) if e])


@receiver(contact_confirmed, dispatch_uid="feedback.link_confirmed_contact")
def link_confirmed_contact(sender: Any, response: Response, customer: Customer, **kwargs: Any) -> None:
    from feedback import workflow

    case = ComplaintCase.objects.filter(response=response).first()
    if case is not None:
        workflow.case_link_customer(case=case, customer=customer)


customer_panels.append(complaints_panel)
