import pytest

from surveys.scoring import (
    FIXED_SCALES,
    QuestionKind,
    ces_low_effort,
    csat_satisfied,
    is_detractor,
    net_promoter_score,
    nps_category,
    scale_for,
)


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_categories_follow_the_standard_cut_points(score, category):
    assert nps_category(score) == category


@pytest.mark.parametrize("score", [-1, 11])
def test_nps_category_rejects_scores_off_the_scale(score):
    with pytest.raises(ValueError):
        nps_category(score)


def test_fixed_scales_are_the_published_ones():
    assert list(FIXED_SCALES[QuestionKind.NPS].values) == list(range(0, 11))
    assert list(FIXED_SCALES[QuestionKind.CSAT].values) == [1, 2, 3, 4, 5]
    assert list(FIXED_SCALES[QuestionKind.CES].values) == [1, 2, 3, 4, 5, 6, 7]


def test_rating_scale_uses_the_questions_bounds_and_others_have_none():
    assert list(scale_for(QuestionKind.RATING, 1, 10).values) == list(range(1, 11))
    assert scale_for(QuestionKind.TEXT) is None


def test_csat_top_two_box_and_ces_low_effort():
    assert [csat_satisfied(s) for s in range(1, 6)] == [False, False, False, True, True]
    assert [ces_low_effort(s) for s in range(1, 8)] == [True, True, False, False, False, False, False]
    with pytest.raises(ValueError):
        csat_satisfied(0)


def test_detractor_thresholds_default_and_override():
    assert is_detractor("nps", 6) and not is_detractor("nps", 7)
    assert is_detractor("csat", 2) and not is_detractor("csat", 3)
    assert is_detractor("ces", 6) and not is_detractor("ces", 5)
    assert not is_detractor("text", 1)
    assert is_detractor("nps", 7, {"nps": (0, 7)})


def test_net_promoter_score():
    assert net_promoter_score(100, 40, 200) == pytest.approx(30.0)
    assert net_promoter_score(0, 0, 0) is None
