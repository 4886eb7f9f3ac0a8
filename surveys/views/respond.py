"""The customer's pages: /s/<token>/. No account, no JavaScript needed, one template loop per scale.

This is the hottest path of the server when a campaign goes out, so it does a fixed, small number of queries and
renders no Django form widgets (each widget is a template render of its own).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods

from config import ratelimit
from config.pages import personal_page as _render
from config.pages import unavailable_page
from surveys import public
from surveys.branding import DEFAULT as DEFAULT_BRAND
from surveys.branding import Brand
from surveys.models import Language, Question, Survey
from surveys.responding import (
    ANSWERED,
    OPEN,
    Link,
    ParsedAnswers,
    field_name,
    follow_up_applies,
    follow_up_rules,
    link_for_token,
    link_opened,
    link_state,
    parse_answers,
    prefill_score,
    response_submit,
    response_submit_quick,
    survey_snapshot,
)
from surveys.scoring import SCALE_KINDS, QuestionKind

LANGUAGES = {Language.VI.value, Language.EN.value}


def _language(request: HttpRequest, link: Link | None = None) -> str:
    """An explicit choice (the switch) wins, then the customer's own language, then the browser's."""
    chosen = request.POST.get("switch") or request.POST.get("lang") or request.GET.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if link is not None and link.customer_language in LANGUAGES:
        return link.customer_language
    return translation.get_language_from_request(request) if request else "vi"


def _unavailable(request: HttpRequest) -> HttpResponse:
    # One page and one status for every reason (unknown, expired, closed): nothing tells a guesser which it was.
    # Its language comes from the request alone, for the same reason.
    return unavailable_page(request, _language(request))


def _switching(request: HttpRequest) -> bool:
    """The language switch of a form page sends the form (respond/form.html), so that what was typed comes back in
    the other language: it never records, and nothing is marked missing."""
    return request.method == "POST" and request.POST.get("switch") in LANGUAGES


def question_rows(
    questions: list[Question], language: str, values: dict[int, Any], errors: dict[int, str]
) -> list[dict[str, Any]]:
    """Everything the template needs per question, precomputed so the template is one plain loop.

    A follow-up carries the name of the score it follows and its range (respond.js shows it live); it is rendered
    visible when the score known to the server (a score button in the email, a post) calls for it."""
    rows = []
    rules = follow_up_rules(questions)
    for q in questions:
        value = values.get(q.pk)
        row: dict[str, Any] = {
            "id": q.pk,
            "name": field_name(q),
            "kind": q.kind,
            "text": q.text(language),
            "required": q.required,
            "error": errors.get(q.pk, ""),
            "value": value if isinstance(value, str) else "",
            "visible": True,
        }
        rule = rules.get(q.pk)
        if rule is not None:
            row["show_if"], row["show_min"], row["show_max"] = f"q{rule[0]}", rule[1], rule[2]
            row["visible"] = follow_up_applies(rule, values)
        if q.kind in SCALE_KINDS:
            scale = q.scale
            row["options"] = [(v, str(v), v == value) for v in scale.values]
            row["low_label"], row["high_label"] = scale.low_label, scale.high_label
            row["wide"] = len(scale.values) > 7
        elif q.kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
            chosen = value if isinstance(value, list) else [value]
            row["options"] = [(i, label, i in chosen) for i, label in enumerate(q.choice_labels(language))]
        rows.append(row)
    return rows


def _form_page(
    request: HttpRequest,
    *,
    survey: Survey,
    questions: list[Question],
    language: str,
    answers: ParsedAnswers,
    action: str,
    preview: bool = False,
    status: int = 200,
    version_id: int | None = None,
    stamp: str = "",
    public: bool = False,
    email: str = "",
    email_error: str = "",
    notice: str = "",
    brand: Brand = DEFAULT_BRAND,
) -> HttpResponse:
    rows = question_rows(questions, language, answers.values, answers.errors)
    follow_ups = [row for row in rows if "show_if" in row]
    context = {
        "follow_ups": bool(follow_ups),
        "seen": ",".join(str(row["id"]) for row in follow_ups if row["visible"]),
        "more": bool(answers.pending),
        "notice": notice,
        "brand": brand,
        "public": public,
        "email": email,
        "email_error": email_error,
        # What the form was built from, so that PostgreSQL can check it in the same statement that stores the post.
        "version_id": version_id,
        "stamp": stamp,
        "survey_title": survey.title(language),
        "intro": survey.intro(language),
        "rows": rows,
        # The email's error counts too: the summary (role="alert") is what a screen reader announces.
        "error_count": len(answers.errors) + (1 if email_error else 0),
        "action": action,
        "preview": preview,
    }
    return _render(request, "respond/form.html", context, language, status=status)


# Compressed for clients that accept it (7 KB of HTML become about 2 KB on a phone's connection). Safe from
# BREACH-style guessing: nothing an attacker chooses is reflected next to a secret (the page reflects only the
# customer's own answers, a validated score and language), and Django masks the public page's CSRF token afresh
# in every response.
@gzip_page
@csrf_exempt  # The unguessable token in the URL is the credential; a cross-site form cannot know it.
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    switching = _switching(request)
    if request.method == "POST" and not switching:
        quick = response_submit_quick(token=token, data=request.POST)
        if quick is not None:
            return redirect(f"{request.path}thanks/?lang={quick.language}")
    link = link_for_token(token)
    state = link_state(link)
    if state == ANSWERED:
        if request.method == "POST" and not switching:
            # A double click or a retry: the first answer stands, and the customer sees that it did.
            return redirect("respond_thanks", token=token)
        return _render(request, "respond/thanks.html", {"already": True}, _language(request, link))
    if state != OPEN:
        return _unavailable(request)
    assert link is not None and link.version_id is not None
    snapshot = survey_snapshot(link.survey_id, link.version_id, link.survey_stamp)
    survey, questions = snapshot.survey, snapshot.questions
    language = _language(request, link)
    if request.method == "GET":
        # GET never records an answer (mail scanners open every link in an email); it notes the first opening.
        link_opened(link)
        answers = ParsedAnswers(values=prefill_score(questions, request.GET.get("score")))
    else:
        answers = parse_answers(questions, request.POST)
        if switching:
            answers = ParsedAnswers(values=answers.values)
    if request.method == "GET" or switching or not answers.is_valid or answers.pending:
        # Pending follow-ups (scripts off): the same page again, the score kept and the follow-up now shown.
        status = 200 if request.method == "GET" or answers.is_valid else 400
        return _form_page(
            request,
            survey=survey,
            questions=questions,
            language=language,
            answers=answers,
            action=request.path,
            status=status,
            version_id=snapshot.version_id,
            stamp=snapshot.stamp,
            brand=snapshot.brand,
        )
    response_submit(link=link, survey=survey, questions=questions, answers=answers, language=language)
    return redirect(f"{request.path}thanks/?lang={language}")


@gzip_page
@require_http_methods(["GET"])
def respond_thanks(request: HttpRequest, token: str) -> HttpResponse:
    link = link_for_token(token)
    if link_state(link) != ANSWERED:
        return _unavailable(request)
    return _render(request, "respond/thanks.html", {"already": False}, _language(request, link))


def _public_survey(key: str) -> Survey | None:
    if not key or len(key) > 32:
        return None
    return Survey.objects.filter(public_key=key, status=Survey.Status.ACTIVE).select_related("current_version").first()


def _public_form(response: HttpResponse) -> HttpResponse:
    """Under "no-referrer" a browser posts the form with `Origin: null`, which Django's CSRF check refuses: every
    answer met "The form has expired". The URL holds only the survey's public key (it is printed on posters), so
    same-origin keeps it from other sites and lets the form be sent, as for the complaint form."""
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@gzip_page
@require_http_methods(["GET", "POST"])
def respond_public(request: HttpRequest, key: str) -> HttpResponse:
    """A survey's public link: anyone may answer, anonymously unless they leave an email; rate-limited."""
    survey = _public_survey(key)
    if survey is None or survey.current_version_id is None:
        return _unavailable(request)
    language = _language(request)
    snapshot = survey_snapshot(survey.pk, survey.current_version_id, survey.updated_at)
    questions = snapshot.questions
    email, email_error = "", ""
    switching = _switching(request)
    if request.method == "GET":
        answers = ParsedAnswers(values=prefill_score(questions, request.GET.get("score")))
    else:
        answers = parse_answers(questions, request.POST)
        email = request.POST.get("email", "").strip()[:254]
        if switching:
            answers = ParsedAnswers(values=answers.values)
        elif email:
            try:
                validate_email(email)
            except ValidationError:
                with translation.override(language):
                    email_error = str(_("This is not an email address. Correct it, or leave it empty."))
    status, notice = (200 if request.method == "GET" or (answers.is_valid and not email_error) else 400), ""
    if request.method == "POST" and not switching and answers.is_valid and not answers.pending and not email_error:
        if not public.over_rate(survey, ratelimit.client_address(request)):
            try:
                public.response_submit_public(
                    survey=survey, questions=questions, answers=answers, language=language, email=email
                )
            except public.ClaimMailRefused as refused:
                with translation.override(language):
                    status, email_error = 429, " ".join(str(m) for m in refused.messages)
            else:
                return redirect(f"{request.path}thanks/?lang={language}")
        else:
            status = 429
            with translation.override(language):
                notice = str(_("Many answers came from your connection in the last hour. Please try again later."))
    page = _form_page(
        request,
        survey=survey,
        questions=questions,
        language=language,
        answers=answers,
        action=request.path,
        status=status,
        public=True,
        email=email,
        email_error=email_error,
        notice=notice,
        brand=snapshot.brand,
    )
    return _public_form(page)


@gzip_page
@require_http_methods(["GET"])
def respond_public_thanks(request: HttpRequest, key: str) -> HttpResponse:
    if _public_survey(key) is None:
        return _unavailable(request)
    return _render(request, "respond/thanks.html", {"already": False}, _language(request))


@csrf_exempt  # The unguessable token in the URL is the credential, as for survey links.
@require_http_methods(["GET", "POST"])
def contact_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link mailed to an address typed on a public page. GET only asks (mail scanners open every link)."""
    claim = public.contact_claim_for_token(token)
    if claim is None:
        return _unavailable(request)
    language = _language(request) if (request.POST.get("lang") or request.GET.get("lang")) else claim.language
    done = claim.confirmed_at is not None
    if request.method == "POST" and not done:
        public.contact_claim_confirm(claim=claim)
        done = True
    return _render(request, "respond/contact_confirm.html", {"done": done, "email": claim.email}, language)
