import pytest
from django.http import QueryDict
from django.utils import translation

from surveys import building
from surveys.responding import parse_answers, prefill_score
from surveys.scoring import QuestionKind
from tests.factories import make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def questions():
    survey = make_survey(active=False)  # NPS (required) + comment (optional)
    version = survey.current_version
    building.question_add(
        version=version,
        kind=QuestionKind.SINGLE,
        text_en="Channel",
        text_vi="Kênh",
        required=False,
        choices=[{"en": "Web", "vi": "Web"}, {"en": "Phone", "vi": "Điện thoại"}],
    )
    building.question_add(
        version=version,
        kind=QuestionKind.MULTI,
        text_en="Topics",
        text_vi="Chủ đề",
        required=False,
        choices=[{"en": "A", "vi": "A"}, {"en": "B", "vi": "B"}, {"en": "C", "vi": "C"}],
    )
    building.question_add(
        version=version,
        kind=QuestionKind.RATING,
        text_en="Rate",
        text_vi="Chấm",
        required=False,
        scale_min=1,
        scale_max=10,
    )
    return list(version.questions.order_by("position"))


def data(**fields):
    q = QueryDict(mutable=True)
    for key, value in fields.items():
        if isinstance(value, list):
            q.setlist(key, value)
        else:
            q[key] = value
    return q


def test_valid_answers_are_typed(questions):
    nps, comment, single, multi, rating = questions
    parsed = parse_answers(
        questions,
        data(
            **{
                f"q{nps.pk}": "9",
                f"q{comment.pk}": "  Rất tốt\r\n ",
                f"q{single.pk}": "1",
                f"q{multi.pk}": ["2", "0", "2"],
                f"q{rating.pk}": "10",
            }
        ),
    )
    assert parsed.is_valid
    assert parsed.values == {nps.pk: 9, comment.pk: "Rất tốt", single.pk: 1, multi.pk: [0, 2], rating.pk: 10}


def test_required_question_missing_is_an_error_and_optional_ones_are_not(questions):
    parsed = parse_answers(questions, data())
    assert list(parsed.errors) == [questions[0].pk]
    assert "answer this question" in parsed.errors[questions[0].pk]


@pytest.mark.parametrize("raw", ["11", "-1", "abc", "9.5", "1e1"])
def test_nps_out_of_range_or_not_a_number_is_refused(questions, raw):
    parsed = parse_answers(questions, data(**{f"q{questions[0].pk}": raw}))
    assert parsed.errors[questions[0].pk] == "Choose a value from 0 to 10."


def test_choice_indexes_outside_the_options_are_refused(questions):
    nps, _comment, single, multi, rating = questions
    parsed = parse_answers(
        questions,
        data(
            **{
                f"q{nps.pk}": "5",
                f"q{single.pk}": "2",
                f"q{multi.pk}": ["1", "7"],
                f"q{rating.pk}": "0",
            }
        ),
    )
    assert set(parsed.errors) == {single.pk, multi.pk, rating.pk}


def test_text_over_5000_characters_is_refused_but_kept_for_the_form(questions):
    nps, comment = questions[0], questions[1]
    long_text = "á" * 5001
    parsed = parse_answers(questions, data(**{f"q{nps.pk}": "3", f"q{comment.pk}": long_text}))
    assert "at most 5,000 characters" in parsed.errors[comment.pk] and "(it has 5,001)" in parsed.errors[comment.pk]
    assert parsed.values[comment.pk] == long_text
    with translation.override("vi"):  # grouped as Vietnamese writes it, not the English way
        error = parse_answers(questions, data(**{f"q{nps.pk}": "3", f"q{comment.pk}": long_text})).errors[comment.pk]
    assert "5.000" in error and "5.001" in error
    exactly = parse_answers(questions, data(**{f"q{nps.pk}": "3", f"q{comment.pk}": "a" * 5000}))
    assert exactly.is_valid


def test_nul_character_is_refused(questions):
    parsed = parse_answers(questions, data(**{f"q{questions[0].pk}": "3", f"q{questions[1].pk}": "a\x00b"}))
    assert questions[1].pk in parsed.errors


def test_prefill_only_applies_a_score_on_the_first_scale(questions):
    assert prefill_score(questions, "10") == {questions[0].pk: 10}
    assert prefill_score(questions, "11") == {}
    assert prefill_score(questions, "x") == {}
    assert prefill_score(questions, None) == {}


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield
