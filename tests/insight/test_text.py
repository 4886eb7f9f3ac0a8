"""Comments without a link or repeated punctuation skip the preprocessor's two costly steps; the result must be the
same as the full preprocessor's for every text, whichever way it goes."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from insight import corpus
from insight.text import _preprocessor, _preprocessor_plain, normalise_many


def _full(texts: list[str]) -> list[str]:
    return [_preprocessor().transform(unicodedata.normalize("NFC", t)[:2000]) for t in texts]


# Letters of the URL and punctuation steps in both cases, Vietnamese with and without diacritics, teencode,
# negations, full-width forms, spaces of several kinds.
PIECES = st.sampled_from(
    [
        "h",
        "t",
        "p",
        "s",
        "w",
        "H",
        "T",
        "P",
        "S",
        "W",
        ":",
        "/",
        ".",
        "!",
        "?",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "http://",
        "HTTPS://",
        "www.",
        "Www",
        "ww",
        "..",
        "...",
        "!?",
        "ko",
        "k0",
        "dc",
        "không",
        "khong",
        "tốt",
        "giao hàng",
        "chậm",
        "đẹppp",
        "quá",
        "wá",
        "ok",
        "z",
        "ｗｗｗ.",
        "ＨＴＴＰ",
        "！！",
        "．",
        "ſ",
        "K",
        "e\u0301",
        "Đ",
        "nhân viên",
        "not",
        "good",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(PIECES, max_size=12).map("".join), min_size=1, max_size=8))
def test_the_fast_way_reads_every_text_as_the_full_preprocessor(texts):
    assert normalise_many(texts) == _full(texts)


def test_the_bundled_comments_and_links_read_the_same():
    texts = [r.text for r in corpus.rows()]
    texts += ["Xem https://shop.vn/don/123 nhé!!!", "www.shop.vn giao chậm....", "Tệ quá??", "ok"]
    assert normalise_many(texts) == _full(texts)
    assert normalise_many(["Xem https://shop.vn/don/123 nhé!!!"]) == ["xem nhé!"]
    # the plain preprocessor really leaves links and punctuation runs alone: the check above is not vacuous
    assert _preprocessor_plain().transform("xem https://a.vn nhé!!!") == "xem https://a.vn nhé!!!"
