"""One function stores responses; its variants (ORM, PostgreSQL statement, PostgreSQL quick statement, public link)
write the same rows."""

import pytest
from django.db import IntegrityError, connection

from audit.models import AuditEntry
from surveys.invitations import invitation_create
from surveys.models import Answer, Invitation, Response, hash_token
from surveys.responding import ORM, STATEMENT, parse_answers, questions_of, response_store, stamp_key
from tests.factories import CustomerFactory, make_survey
from tests.helpers import require

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(qm):
    from surveys import building

    survey = make_survey(owner=qm)
    version = survey.current_version
    building.question_add(
        version=version, kind="multi", text_en="What?", text_vi="Gì?", required=False,
        choices=[{"en": "a", "vi": "a"}, {"en": "b", "vi": "b"}, {"en": "c", "vi": "c"}],
    )  # fmt: skip
    building.question_add(version=version, kind="single", text_en="One", text_vi="Một", required=False,
                          choices=[{"en": "x", "vi": "x"}, {"en": "y", "vi": "y"}])  # fmt: skip
    survey.refresh_from_db()
    return survey


def _answers(questions):
    nps, comment, multi, single = questions
    return parse_answers(
        questions, {f"q{nps.pk}": "4", f"q{comment.pk}": "Giao chậm, “nhân viên” tốt", f"q{multi.pk}": ["2", "0"],
                    f"q{single.pk}": "1"},
    )  # fmt: skip


def _stored(response_id):
    response = Response.objects.get(pk=response_id)
    answers = sorted(
        (a.question_id, a.number, a.text, a.choices) for a in Answer.objects.filter(response_id=response_id)
    )
    invitation = Invitation.objects.filter(pk=response.invitation_id).first()
    return {
        "survey": response.survey_id,
        "version": response.version_id,
        "customer": bool(response.customer_id),
        "invitation": bool(response.invitation_id),
        "language": response.language,
        "answers": answers,
        "answered": invitation is not None and invitation.answered_at == response.submitted_at,
        "status": invitation.status if invitation else None,
    }


def _store(survey, *, method=None, quick=False, with_invitation=True):
    questions = questions_of(survey.current_version)
    invitation, token = invitation_create(survey=survey, customer=CustomerFactory())
    kwargs = {"invitation_id": invitation.pk, "customer_id": invitation.customer_id} if with_invitation else {}
    if quick:
        survey.refresh_from_db()
        kwargs = {"token_hash": hash_token(token), "stamp": stamp_key(survey.updated_at)}
    response = response_store(
        survey=survey, version_id=survey.current_version_id, questions=questions, answers=_answers(questions),
        language="en", method=method, **kwargs,
    )  # fmt: skip
    assert response is not None
    return _stored(response.pk)


def test_the_orm_variant_stores_the_response_its_answers_and_the_answered_time(survey):
    before = AuditEntry.objects.count()
    stored = _store(survey, method=ORM)
    assert stored["answered"] and stored["status"] == "answered" and stored["language"] == "en"
    assert [a[1:] for a in stored["answers"]] == [(4, "", None), (None, "Giao chậm, “nhân viên” tốt", None),
                                                   (None, "", [0, 2]), (1, "", None)]  # fmt: skip
    # A response is its own immutable record: storing one appends nothing to the trail (no chain lock, no INSERT).
    # The customer's and the invitation's creation, nothing for the response.
    assert AuditEntry.objects.count() == before + 2


def test_a_second_response_for_one_invitation_is_refused_by_every_variant(survey):
    questions = questions_of(survey.current_version)
    invitation, _token = invitation_create(survey=survey, customer=CustomerFactory())
    common = {"survey": survey, "version_id": survey.current_version_id, "questions": questions,
              "answers": _answers(questions), "language": "vi", "invitation_id": invitation.pk}  # fmt: skip
    response_store(**common, method=ORM)
    methods = [ORM, STATEMENT] if connection.vendor == "postgresql" else [ORM]
    for method in methods:
        with pytest.raises(IntegrityError):
            response_store(**common, method=method)
    assert Response.objects.filter(invitation=invitation).count() == 1


@pytest.mark.integration
def test_the_postgresql_variants_store_the_same_rows_as_the_orm(survey, settings):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    settings.DB_PREPARED_STATEMENTS = True
    reference = _store(survey, method=ORM)
    assert _store(survey, method=STATEMENT) == reference
    assert _store(survey, quick=True) == reference
    # The public link: no invitation, through the statement and the ORM alike.
    public = _store(survey, method=ORM, with_invitation=False)
    assert _store(survey, method=STATEMENT, with_invitation=False) == public
    assert {**public, "invitation": True, "customer": True, "answered": True, "status": "answered"} == reference
