"""What surveys holds about a customer: their invitations and answers on the customer page, and what an erasure
removes (Decree 13/2023 art. 16): free-text answers, unconfirmed contact claims with their address, and send errors
that quote it. The erasure itself is `customers.services.customer_erase`; the receivers run inside its
transaction."""

from __future__ import annotations

from typing import Any

from customers.models import Customer
from customers.services import ERASED_NAME, ErasedData, ErasureFindings
from surveys.models import Answer, ContactClaim, Invitation, Response


def customer_surveys_panel(customer: Customer) -> dict[str, Any]:
    return {
        "template": "surveys/includes/customer_surveys.html",
        "invitations": customer.invitations.select_related("survey").order_by("-created_at")[:50],
        "responses": customer.responses.select_related("survey")
        .prefetch_related("answers__question")
        .order_by("-submitted_at")[:50],
    }


def erasure_findings(sender: Any, customer: Customer, **kwargs: Any) -> ErasureFindings:
    answers = Answer.objects.filter(response__customer=customer).exclude(text="")
    return ErasureFindings(
        texts=tuple(t for t in answers.values_list("text", flat=True).distinct() if t.strip()),
        survey_ids=frozenset(Response.objects.filter(customer=customer).values_list("survey_id", flat=True)),
    )


def erase_survey_data(sender: Any, customer: Customer, data: ErasedData, **kwargs: Any) -> dict[str, int]:
    # Free-text answers can name people; the scores are kept.
    cleared = Answer.objects.filter(response__customer=customer).exclude(text="").update(text="")
    claims = ContactClaim.objects.filter(customer=customer)
    if data.email:
        claims = claims | ContactClaim.objects.filter(email__iexact=data.email)
    claims.delete()
    if data.email:
        # An SMTP refusal often quotes the address.
        for invitation in Invitation.objects.filter(customer=customer).exclude(status_reason=""):
            redacted = data.redact(invitation.status_reason, ERASED_NAME)
            if redacted != invitation.status_reason:
                Invitation.objects.filter(pk=invitation.pk).update(status_reason=redacted)
    return {"answer_texts": cleared}
