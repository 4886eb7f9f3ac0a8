"""Scores as weak sentiment labels, through the worker's own training path (pipeline._training_inputs, the model the
sweep uses): which scores label a comment and how, how much a weak label counts, which responses are read, and what
the labels do to the model (it learns a word customers use only when unhappy, and stays within its accuracy target
on the held-out comments)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from insight import corpus, pipeline, services
from insight.engine import SENTIMENTS, WEAK_WEIGHT
from surveys.models import Answer
from surveys.scoring import QuestionKind
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_models():
    pipeline._engines.clear()  # a model trained in another test (same theme list) must not be reused here
    yield
    pipeline._engines.clear()


def _comment(survey, score, text, *, at=None):
    response = make_response(survey, score, customer=None, at=at)
    question = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=question, text=text)
    return response


def _weak() -> dict[str, tuple[str, float]]:
    return {item.text: (item.sentiment, item.weight) for item in pipeline._weak_labels()}


def test_nps_detractors_are_negative_promoters_positive_and_passives_are_left_out():
    survey = make_survey(kind="nps")
    for score in range(11):
        _comment(survey, score, f"nps comment {score}")
    labels = _weak()
    assert {t for t, (s, _w) in labels.items() if s == "negative"} == {f"nps comment {n}" for n in range(7)}
    assert {t for t, (s, _w) in labels.items() if s == "positive"} == {"nps comment 9", "nps comment 10"}
    # A passive's comment is not "neutral": a 7 or 8 says nothing reliable about the words, so it is not a label.
    assert "nps comment 7" not in labels and "nps comment 8" not in labels
    assert {w for _s, w in labels.values()} == {WEAK_WEIGHT}


def test_csat_and_ces_read_in_their_own_directions():
    csat, ces = make_survey(kind="csat"), make_survey(kind="ces")
    assert csat.current_version.questions.order_by("position").first().kind == QuestionKind.CSAT
    assert ces.current_version.questions.order_by("position").first().kind == QuestionKind.CES
    for score in range(1, 6):
        _comment(csat, score, f"csat {score}")
    for score in range(1, 8):
        _comment(ces, score, f"ces {score}")
    labels = {t: s for t, (s, _w) in _weak().items()}
    assert labels == {
        "csat 1": "negative",
        "csat 2": "negative",
        "csat 4": "positive",
        "csat 5": "positive",  # 3 is the middle of the scale: no label
        # CES runs from easy (1) to difficult (7): the low end is the good one.
        "ces 1": "positive",
        "ces 2": "positive",
        "ces 6": "negative",
        "ces 7": "negative",
    }


def test_a_weak_label_counts_less_than_a_written_one_and_a_correction_more():
    survey = make_survey(kind="nps")
    _comment(survey, 0, "the worst")
    _specs, labelled = pipeline._training_inputs()
    weights = {item.weight for item in labelled if item.text == "the worst"}
    assert weights == {WEAK_WEIGHT}
    written = {item.weight for item in corpus.training()}
    assert min(written) > WEAK_WEIGHT and min(written) == 1.0
    # Weak labels say nothing about themes: they never teach the theme model "no theme".
    assert all(item.themes is None for item in labelled if item.weight == WEAK_WEIGHT)


def test_only_the_newest_responses_are_read(monkeypatch):
    monkeypatch.setattr(pipeline, "WEAK_LIMIT", 4)
    survey = make_survey(kind="nps")
    now = timezone.now()
    for i in range(8):
        _comment(survey, 0, f"old {i}" if i < 4 else f"new {i}", at=now - timedelta(days=8 - i))
    assert set(_weak()) == {"new 4", "new 5", "new 6", "new 7"}


def test_the_model_learns_from_scores_a_word_only_unhappy_customers_use(qm):
    """The word "zorblax" (a made-up product name) is in no bundled comment or seed. Forty detractors write it next
    to neutral words, forty promoters write "quibbit": the weak labels alone must move the model's reading of each
    word the right way, and the model must stay above its held-out target (macro-F1 0.80)."""
    services.themes_seed_starter()
    survey = make_survey(kind="nps", owner=qm)
    new = pipeline.engine_current()  # before the labels exist: the model without them
    before = dict(zip(SENTIMENTS, new.sentiment_model.predict_proba(new.rows(["zorblax", "quibbit"])).T, strict=True))
    for i in range(40):
        _comment(survey, i % 4, f"lần {i} mua zorblax ở cửa hàng")
        _comment(survey, 9 + i % 2, f"lần {i} mua quibbit ở cửa hàng")
    pipeline._engines.clear()
    engine = pipeline.engine_current()
    proba = engine.sentiment_model.predict_proba(engine.rows(["zorblax", "quibbit"]))
    after = dict(zip(SENTIMENTS, proba.T, strict=True))
    assert after["negative"][0] > before["negative"][0] + 0.1
    assert after["positive"][1] > before["positive"][1] + 0.1
    assert np.argmax(proba[0]) == SENTIMENTS.index("negative")
    assert np.argmax(proba[1]) == SENTIMENTS.index("positive")

    held_out = corpus.held_out()
    predicted = [a.sentiment for a in engine.analyse([r.text for r in held_out])]
    f1 = []
    for label in SENTIMENTS:
        tp = sum(r.sentiment == p == label for r, p in zip(held_out, predicted, strict=True))
        wrong = sum((r.sentiment == label) != (p == label) for r, p in zip(held_out, predicted, strict=True))
        f1.append(2 * tp / (2 * tp + wrong))
    assert sum(f1) / 3 >= 0.80
