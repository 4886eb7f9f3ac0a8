import pytest
from django.core.exceptions import ValidationError

from surveys import building
from surveys.models import Survey
from surveys.scoring import QuestionKind, SurveyKind
from tests.factories import make_invitation, make_survey, quality_manager

pytestmark = pytest.mark.django_db


def answer(survey):
    """Record one response on the survey's current version, the way a customer would."""
    from surveys.responding import link_for_token, parse_answers, questions_of, response_submit

    _invitation, token = make_invitation(survey=survey)
    questions = questions_of(survey.current_version)
    parsed = parse_answers(questions, {f"q{questions[0].pk}": str(questions[0].scale.low)})
    return response_submit(
        link=link_for_token(token), survey=survey, questions=questions, answers=parsed, language="vi"
    )[0]


@pytest.mark.parametrize(("kind", "low", "high"), [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)])
def test_new_survey_is_a_draft_with_its_fixed_headline_scale(kind, low, high):
    survey = building.survey_create(owner=quality_manager(), kind=kind, title_en="T", title_vi="T")
    assert survey.status == Survey.Status.DRAFT
    headline, comment = survey.current_version.questions.order_by("position")
    assert (headline.kind, headline.scale_min, headline.scale_max) == (kind, low, high)
    assert comment.kind == QuestionKind.TEXT and not comment.required


def test_fixed_scales_cannot_be_stretched():
    survey = make_survey(active=False)
    q = building.question_add(
        version=survey.current_version,
        kind=QuestionKind.CSAT,
        text_en="x",
        text_vi="x",
        scale_min=0,
        scale_max=10,
    )
    assert (q.scale_min, q.scale_max) == (1, 5)


def test_invalid_questions_are_refused_with_reasons():
    version = make_survey(active=False).current_version
    with pytest.raises(ValidationError) as error:
        building.question_add(
            version=version, kind=QuestionKind.SINGLE, text_en="", text_vi="", choices=[{"en": "only one"}]
        )
    assert set(error.value.message_dict) == {"text_en", "choices"}
    with pytest.raises(ValidationError):
        building.question_add(
            version=version, kind=QuestionKind.RATING, text_en="r", text_vi="r", scale_min=5, scale_max=3
        )
    assert version.questions.count() == 2


def test_move_and_delete_keep_positions_contiguous():
    survey = make_survey(active=False)
    version = survey.current_version
    third = building.question_add(version=version, kind=QuestionKind.TEXT, text_en="c", text_vi="c")
    building.question_move(question=third, direction="up")
    assert [q.text_en for q in version.questions.order_by("position")][1] == "c"
    first = version.questions.order_by("position").first()
    building.question_delete(question=first)
    assert list(version.questions.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_a_version_with_responses_cannot_change_in_place():
    survey = make_survey()
    answer(survey)
    question = survey.current_version.questions.first()
    with pytest.raises(building.SurveyLocked):
        building.question_update(question=question, kind=question.kind, text_en="changed", text_vi="đổi", required=True)
    with pytest.raises(building.SurveyLocked):
        building.question_add(version=survey.current_version, kind="text", text_en="x", text_vi="x")
    with pytest.raises(building.SurveyLocked):
        building.question_delete(question=question)
    question.refresh_from_db()
    assert question.text_en != "changed"


def test_new_version_copies_questions_and_old_responses_keep_their_version():
    survey = make_survey()
    first_response = answer(survey)
    old_version = survey.current_version
    new_version = building.survey_new_version(survey=survey)
    survey.refresh_from_db()
    assert survey.current_version == new_version and new_version.number == 2
    assert [q.text_en for q in new_version.questions.all()] == [q.text_en for q in old_version.questions.all()]
    q = new_version.questions.first()
    building.question_update(question=q, kind=q.kind, text_en="New wording", text_vi="Câu mới", required=True)
    second_response = answer(survey)
    assert first_response.version == old_version
    assert second_response.version == new_version
    assert old_version.questions.first().text_en != "New wording"


def test_activate_needs_a_question_and_close_needs_active():
    survey = building.survey_create(
        owner=quality_manager(), kind=SurveyKind.CSAT, title_en="t", title_vi="t", with_comment=False
    )
    building.question_delete(question=survey.current_version.questions.get())
    with pytest.raises(ValidationError):
        building.survey_activate(survey=survey)
    with pytest.raises(ValidationError):
        building.survey_close(survey=survey)
    building.question_add(version=survey.current_version, kind="csat", text_en="q", text_vi="q")
    building.survey_activate(survey=survey)
    building.survey_close(survey=survey)
    assert Survey.objects.get(pk=survey.pk).status == Survey.Status.CLOSED
