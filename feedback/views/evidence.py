"""Evidence files of a corrective action and its 8D report: uploaded by whoever works the action, read by the staff
who may see it. Files are never served from a public media URL: each download is this view, which checks the
reader and the action the file belongs to."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import staff_required
from feedback import eightd, evidence, policy
from feedback.forms import EvidenceForm
from feedback.models import ActionEvidence, CorrectiveAction


def _get_action_for_user(request: HttpRequest, reference: str) -> CorrectiveAction:
    # Every staff member reads every corrective action (feedback/policy.py); the role is checked by the decorator.
    return get_object_or_404(CorrectiveAction.objects.select_related("owner"), reference=reference.upper())


def _get_evidence_for_user(request: HttpRequest, reference: str, pk: int) -> ActionEvidence:
    action = _get_action_for_user(request, reference)
    # The file must belong to the action named in the address: another action's id is a 404, not its file.
    return get_object_or_404(ActionEvidence.objects.select_related("action"), pk=pk, action=action)


@require_POST
@staff_required
def evidence_upload(request: HttpRequest, reference: str) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    policy.action_check_evidence(request.user, action)
    form = EvidenceForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError([error for errors in form.errors.values() for error in errors])
        evidence.evidence_add(
            action=action,
            step=form.cleaned_data["step"],
            upload=form.cleaned_data["file"],
            uploaded_by=request.user,
            description=form.cleaned_data["description"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Evidence file added."))
    return redirect("action_detail", reference=action.reference)


# The role is checked before the method: a signed-in user without a role gets 403 whatever they send.
@staff_required
@require_GET
def evidence_download(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    item = _get_evidence_for_user(request, reference, pk)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError) as error:
        raise Http404(_("The file is missing from the storage.")) from error
    # Always a download, with the type we sniffed, never the browser's guess: an uploaded file must not render
    # as a page of this site.
    response = FileResponse(handle, as_attachment=True, filename=item.name, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_GET
def action_8d_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    content = eightd.action_8d_pdf(action, (request.LANGUAGE_CODE or "vi")[:2])
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="8D-{action.reference}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
