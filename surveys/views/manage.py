"""Quality managers' pages: the survey builder, previews, invitations and (for now) a plain customer list."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_quality_manager, quality_manager_required
from audit.selectors import survey_changes_after_activation
from surveys import building, public, starters
from surveys.branding import brand_current
from surveys.forms import InvitationForm, QuestionForm, SurveyCreateForm, SurveyEditForm
from surveys.invitations import (
    invitation_create,
    invitation_email_now,
    invitation_link,
    invitation_renew_link,
)
from surveys.models import Invitation, Question, Survey
from surveys.responding import ParsedAnswers, prefill_score, questions_of
from surveys.views.respond import LANGUAGES, _form_page

PAGE_SIZE = 25


def _get_survey_for_user(request: HttpRequest, pk: int) -> Survey:
    """The survey, if this user may manage it. Quality managers manage every survey."""
    survey = get_object_or_404(Survey.objects.select_related("owner", "current_version"), pk=pk)
    if not is_quality_manager(request.user):
        raise PermissionDenied
    return survey


def _get_question_for_user(request: HttpRequest, survey: Survey, pk: int) -> Question:
    # Only questions of the survey's current version are editable through its page.
    return get_object_or_404(Question, pk=pk, version_id=survey.current_version_id)


def _validation_messages(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


@quality_manager_required
def survey_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    surveys = (
        Survey.objects.select_related("owner")
        .annotate(response_count=Count("responses"))
        .order_by("-created_at", "-id")
    )
    if status in Survey.Status.values:
        surveys = surveys.filter(status=status)
    page = Paginator(surveys, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "surveys/survey_list.html",
        {"page": page, "status": status, "statuses": Survey.Status.choices},
    )


@quality_manager_required
def survey_create(request: HttpRequest) -> HttpResponse:
    form = SurveyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        survey = building.survey_create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("Survey created as a draft. Review its questions, then activate it."))
        return redirect("survey_detail", pk=survey.pk)
    return render(
        request,
        "surveys/survey_form.html",
        {"form": form, "title": _("New survey"), "starters": starters.STARTERS},
    )


@require_POST
@quality_manager_required
def survey_from_starter(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("starter", "")
    if key not in starters.BY_KEY:
        messages.error(request, _("Choose one of the templates shown."))
        return redirect("survey_create")
    survey = starters.survey_create_from_starter(owner=request.user, key=key)
    messages.success(request, _("Survey created from the template as a draft. Adapt its questions, then activate it."))
    return redirect("survey_detail", pk=survey.pk)


@require_POST
@quality_manager_required
def survey_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    copy = building.survey_duplicate(survey=survey, owner=request.user)
    messages.success(request, _("A copy was made as a draft: its answers start from zero."))
    return redirect("survey_detail", pk=copy.pk)


@quality_manager_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    version = survey.current_version
    questions = questions_of(version) if version else []
    locked = bool(version and building.version_has_responses(version))
    # Every invitation can be found: newest first, a page at a time, searched by the customer's name, address or id.
    query = request.GET.get("q", "").strip()[:100]
    invitations = survey.invitations.select_related("customer").order_by("-created_at", "-id")
    if query:
        invitations = invitations.filter(
            Q(customer__name__icontains=query) | Q(customer__email__icontains=query) | Q(customer__external_id=query)
        )
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "survey": survey,
        "version": version,
        "questions": questions,
        "locked": locked,
        "headline": building.headline_of(questions, survey.kind),
        "response_count": survey.responses.count(),
        "invitation_count": survey.invitations.count(),
        "invitations": page.object_list,
        "page": page,
        "query": query,
        "extra": urlencode({"q": query}) if query else "",
        "campaigns": survey.campaigns.order_by("-created_at")[:20],
        "public_link": public.public_link(survey) if survey.public_key else "",
        "invite_form": InvitationForm(),
        "question_form": QuestionForm(),
        "changes": survey_changes_after_activation(survey.pk),
    }
    return render(request, "surveys/survey_detail.html", context)


@quality_manager_required
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    form = SurveyEditForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("change_reason", "")
        building.survey_update(survey=survey, reason=reason, **data)
        messages.success(request, _("Survey saved."))
        return redirect("survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form, "survey": survey, "title": _("Edit survey")})


@quality_manager_required
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    form = _question_form(request, {"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_bound and form.is_valid():
        try:
            building.question_add(version=survey.current_version, **form.service_kwargs())
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, _("Question added."))
            return redirect("survey_detail", pk=survey.pk)
    return render(request, "surveys/question_form.html", {"form": form, "survey": survey, "title": _("Add a question")})


def _question_form(request: HttpRequest, initial: dict[str, object]) -> QuestionForm:
    """A bound form for a save; for "show this type's fields" (the form's button when scripts are off) the same
    input, unbound, so that it shows the chosen type's fields without errors and saves nothing."""
    if request.method != "POST":
        return QuestionForm(initial=initial)
    if request.POST.get("retype"):
        return QuestionForm(initial={name: request.POST.get(name, "") for name in QuestionForm.base_fields})
    return QuestionForm(request.POST, initial=initial)


def _attach(form: QuestionForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@quality_manager_required
def question_edit(request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    question = _get_question_for_user(request, survey, question_id)
    form = _question_form(request, QuestionForm.initial_for(question))
    if request.method == "POST" and form.is_bound and form.is_valid():
        try:
            building.question_update(question=question, **form.service_kwargs())
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, _("Question saved."))
            return redirect("survey_detail", pk=survey.pk)
    return render(
        request,
        "surveys/question_form.html",
        {"form": form, "survey": survey, "question": question, "title": _("Edit question")},
    )


def _run(request: HttpRequest, action, success: str) -> None:  # type: ignore[no-untyped-def]
    try:
        action()
    except ValidationError as error:
        for message in _validation_messages(error):
            messages.error(request, message)
    else:
        messages.success(request, success)


@require_POST
@quality_manager_required
def question_delete(request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    question = _get_question_for_user(request, survey, question_id)
    _run(request, lambda: building.question_delete(question=question), _("Question removed."))
    return redirect("survey_detail", pk=survey.pk)


@require_POST
@quality_manager_required
def question_headline(request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    question = _get_question_for_user(request, survey, question_id)
    _run(
        request,
        lambda: building.question_set_headline(question=question),
        _("This question is now the survey's headline figure."),
    )
    return redirect("survey_detail", pk=survey.pk)


@require_POST
@quality_manager_required
def question_move(request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    question = _get_question_for_user(request, survey, question_id)
    direction = "up" if request.POST.get("direction") == "up" else "down"
    _run(request, lambda: building.question_move(question=question, direction=direction), _("Order saved."))
    return redirect("survey_detail", pk=survey.pk)


@require_POST
@quality_manager_required
def survey_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    version = building.survey_new_version(survey=survey)
    messages.success(
        request,
        _("Version %(number)s created. New responses answer it; earlier responses keep their version.")
        % {"number": version.number},
    )
    return redirect("survey_detail", pk=survey.pk)


@require_POST
@quality_manager_required
def survey_activate(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    _run(
        request,
        lambda: building.survey_activate(survey=survey),
        _("The survey is active: its links now work."),
    )
    return redirect("survey_detail", pk=survey.pk)


@require_POST
@quality_manager_required
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    _run(
        request,
        lambda: building.survey_close(survey=survey),
        _("The survey is closed: its links no longer work."),
    )
    return redirect("survey_detail", pk=survey.pk)


@quality_manager_required
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGES else "vi"
    questions = questions_of(survey.current_version) if survey.current_version else []
    return _form_page(
        request,
        survey=survey,
        questions=questions,
        language=language,
        answers=ParsedAnswers(values=prefill_score(questions, request.GET.get("score"))),
        action="",
        preview=True,
        brand=brand_current(),
    )


@quality_manager_required
def invitation_new(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    form = InvitationForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = invitation_create(
                survey=survey,
                customer=form.cleaned_data["customer"],
                created_by=request.user,
                expires_in_days=form.cleaned_data["expires_in_days"],
                # Emailed links are delivered when sent; otherwise the link is shown here once, handed out.
                channel=Invitation.Channel.EMAIL if form.cleaned_data["send_email"] else Invitation.Channel.LINK,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if form.cleaned_data["send_email"]:
                invitation_email_now(invitation=invitation)
                messages.success(
                    request,
                    _("The invitation is being emailed to %(email)s.") % {"email": invitation.customer.email},
                )
                return redirect("invitation_new", pk=survey.pk)
            link = invitation_link(token)
            # An empty form for the next customer: the filled one invited the same customer twice.
            form = InvitationForm()
    return render(request, "surveys/invitation_new.html", {"form": form, "survey": survey, "link": link})


@require_POST
@quality_manager_required
def invitation_renew(request: HttpRequest, pk: int, invitation_id: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    invitation = get_object_or_404(Invitation, pk=invitation_id, survey=survey)
    try:
        token = invitation_renew_link(invitation=invitation)
    except ValidationError as error:
        for message in _validation_messages(error):
            messages.error(request, message)
        return redirect("survey_detail", pk=survey.pk)
    return render(
        request,
        "surveys/invitation_new.html",
        {"form": None, "survey": survey, "link": invitation_link(token), "renewed": True},
    )


@require_POST
@quality_manager_required
def survey_public_link(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    if request.POST.get("enable") == "1":
        public.public_link_enable(survey=survey)
        messages.success(request, _("The public link is on."))
    else:
        public.public_link_disable(survey=survey)
        messages.success(request, _("The public link is off: it no longer works."))
    return redirect("survey_detail", pk=survey.pk)


@quality_manager_required
def survey_qr(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _get_survey_for_user(request, pk)
    if not survey.public_key:
        messages.error(request, _("Turn the public link on first."))
        return redirect("survey_detail", pk=survey.pk)
    link = public.public_link(survey)
    return render(
        request, "surveys/survey_qr.html", {"survey": survey, "link": link, "qr": public.qr_svg_data_uri(link)}
    )
