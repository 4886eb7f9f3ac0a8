"""Accuracy on the held-out part of the bundled evaluation set (insight/data/evaluation.tsv, fixed split).

Trained exactly as the worker trains for the starter themes: their example phrases, the sentiment seeds and the
"train" rows. Measured on the "test" rows only. Top-1: the most likely reading (a theme, or "no theme") is one of
the comment's themes (or "no theme" for a comment about none). Sentiment: macro-F1 over negative/neutral/positive.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from insight import corpus
from insight.engine import NONE, SENTIMENTS, Engine, ThemeSpec
from insight.starter import STARTER_THEMES


@functools.cache
def _engine() -> Engine:
    return Engine.train([ThemeSpec(s["key"], tuple(s["examples"])) for s in STARTER_THEMES], corpus.training())


def _macro_f1(gold: list[str], predicted: list[str]) -> float:
    scores = []
    for label in SENTIMENTS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def test_the_set_is_large_and_varied_and_split_once():
    rows = corpus.rows()
    assert len(rows) >= 300
    styles = Counter(r.style for r in rows)
    assert {"acc", "noacc", "teen", "en", "mix", "long"} <= set(styles)
    assert all(styles[s] >= 5 for s in styles)
    test = corpus.held_out()
    assert 90 <= len(test) <= len(rows) // 2
    assert not {r.text for r in test} & {r.text for r in rows if r.split == "train"}
    assert Counter(r.sentiment for r in test).keys() == set(SENTIMENTS)


def test_theme_top1_and_sentiment_macro_f1_on_held_out_comments(capsys: pytest.CaptureFixture[str]):
    test = corpus.held_out()
    analyses = _engine().analyse([r.text for r in test])
    top1 = sum(a.top in (set(r.themes) or {NONE}) for r, a in zip(test, analyses, strict=True)) / len(test)
    f1 = _macro_f1([r.sentiment for r in test], [a.sentiment for a in analyses])
    by_style = {
        style: sum(a.top in (set(r.themes) or {NONE}) for r, a in zip(test, analyses, strict=True) if r.style == style)
        / sum(r.style == style for r in test)
        for style in sorted({r.style for r in test})
    }
    with capsys.disabled():
        print(
            f"\n[insight] held-out n={len(test)}: theme top-1 {top1:.3f}, sentiment macro-F1 {f1:.3f};",
            f"top-1 by style {by_style}",
        )
    assert top1 >= 0.85
    assert f1 >= 0.80


def test_unaccented_and_teencode_read_like_the_accented_comment():
    engine = _engine()
    same = engine.analyse(["Giao hàng chậm quá", "giao hang cham qua", "ship lâu vãi, ko thấy hàng"])
    assert [a.top for a in same] == ["delivery", "delivery", "delivery"]
    assert {a.sentiment for a in same} == {"negative"}


def test_a_comment_can_have_several_themes_or_none():
    engine = _engine()
    two, none = engine.analyse(["Giá thì đắt mà nhân viên lại còn thô lỗ", "Cảm ơn, không có ý kiến gì thêm"])
    assert {"price", "staff"} <= {k for k, _p in two.themes}
    assert all(0 < p <= 1 for _k, p in two.themes)
    assert none.themes == [] and none.top == NONE


def test_a_theme_of_ones_own_learns_from_its_example_phrases():
    specs = [ThemeSpec(s["key"], tuple(s["examples"])) for s in STARTER_THEMES]
    parking = ThemeSpec("parking", ("bãi gửi xe chật", "không có chỗ đậu xe", "no parking space", "gui xe kho khan"))
    engine = Engine.train([*specs, parking], corpus.training())
    (result,) = engine.analyse(["chỗ đậu xe quá chật, gửi xe mất nửa tiếng"])
    assert result.top == "parking"


def test_the_fast_feature_path_gives_the_rows_of_the_reference_path():
    """The worker's batch path (cached word columns, counting in numpy) must read a comment exactly as the plain
    path the model was trained with: same columns, same TF-IDF weights, for every bundled comment, folded, joined
    with another, empty, or only punctuation."""
    import numpy as np

    from insight.text import features, fold, normalise_many

    engine = _engine()
    texts = [r.text for r in corpus.rows()]
    texts += [fold(t) for t in texts[:50]] + [a + " " + b for a, b in zip(texts[:40], texts[40:80], strict=True)]
    texts += ["", "!!!", "ko", "zzzqqq unseen words only?"]
    for _round in range(2):  # the second time the word columns come from the cache
        normalised = normalise_many(texts)
        plain = engine.vectoriser.transform([features(t) for t in normalised])
        fast = engine.featurise(normalised)
        assert plain.indptr.tolist() == fast.indptr.tolist()
        assert plain.indices.tolist() == fast.indices.tolist()
        assert np.allclose(plain.data, fast.data, rtol=0, atol=1e-12)
