"""Comment text → features, for Vietnamese (with or without diacritics, teencode) and English.

The Rust preprocessor of underthesea-core (a PyPI wheel, no model download) does the Vietnamese clean-up: Unicode
NFC, lower case, repeated letters ("đẹppp"), teencode ("ko" → "không", "dc" → "được") and negation marking
("không tốt" → "không NEG_tốt"). We widen its teencode and negation lists with the forms our evaluation set showed
(English negations, unaccented "khong", "wá", "nv"...).

Customers type Vietnamese with or without diacritics ("giao hàng chậm" / "giao hang cham"), so every word is also
taken with its diacritics folded away, and character n-grams of the folded words catch misspellings and stretched
spellings. A comment thus becomes a bag of features: accented words and bigrams, folded words and bigrams, and
folded character 3–5-grams.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import underthesea_core

# Forms seen in customers' comments that the preprocessor's own list lacks. Keys are whole lower-case words.
EXTRA_TEENCODE: dict[str, str] = {
    "wá": "quá",
    "qá": "quá",
    "wa": "quá",
    "nv": "nhân viên",
    "nvien": "nhân viên",
    "bik": "biết",
    "bit": "biết",
    "h": "giờ",
    "e": "em",
    "a": "anh",
    "ad": "admin",
    "lun": "luôn",
    "iu": "yêu",
    "hk": "không",
    "kh": "không",
    "khg": "không",
    "kg": "không",
    "kp": "không phải",
    "đt": "điện thoại",
    "tv": "tư vấn",
    "sđt": "số điện thoại",
    "sdt": "số điện thoại",
    "đk": "được",
    "trc": "trước",
    "ntn": "như thế nào",
    "bh": "bao giờ",
    "bn": "bao nhiêu",
    "gđ": "gia đình",
    "mik": "mình",
    "zậy": "vậy",
    "dzậy": "vậy",
    "wtf": "tệ",
}
NEGATIONS = [
    "không",
    "khong",
    "chẳng",
    "chang",
    "chả",
    "cha",
    "chưa",
    "chua",
    "đừng",
    "dung",
    "ko",
    "hok",
    "hem",
    "not",
    "no",
    "never",
    "don't",
    "doesn't",
    "didn't",
    "can't",
    "cannot",
    "won't",
    "isn't",
    "wasn't",
    "aren't",
    "couldn't",
    "nobody",
]
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?(?:_[^\W_]+)?", re.UNICODE)


@functools.cache
def _preprocessor() -> underthesea_core.TextPreprocessor:
    teencode = dict(underthesea_core.TextPreprocessor().teencode)
    # The library maps "ok" to "tốt"; in a comment "ok" is as often lukewarm ("cũng ok") as praise, keep the word.
    teencode.pop("ok", None)
    teencode.pop("oke", None)
    teencode.update(EXTRA_TEENCODE)
    return underthesea_core.TextPreprocessor(teencode=teencode, negation_words=NEGATIONS, negation_window=2)


def fold(text: str) -> str:
    """Vietnamese without diacritics: "giao hàng chậm" → "giao hang cham" (đ → d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


# Words repeat across comments far more than comments do: a word's folded form and its own features are computed
# once per process (a bounded cache; a few hundred thousand distinct words at most).
_fold_word = functools.lru_cache(maxsize=200_000)(fold)


@functools.cache
def _preprocessor_plain() -> underthesea_core.TextPreprocessor:
    """The same steps but URL removal and punctuation runs, for the texts in which those two have nothing to do.

    The library's URL and punctuation steps cost about 0.1 ms a comment even then (ten times the rest of the
    pipeline), and most comments hold neither a link nor "!!", "??" or "....".
    """
    full = _preprocessor()
    return underthesea_core.TextPreprocessor(
        teencode=full.teencode,
        negation_words=full.negation_words,
        negation_window=full.negation_window,
        remove_urls=False,
        normalize_punctuation=False,
    )


# What the URL step ("http://…", "https://…", "www.…", after lower-casing) and the punctuation step ("!!", "??",
# "....") could act on; a text with none of these goes through the plain preprocessor, with the same result.
_NEEDS_FULL = re.compile(r"https?:|www|!!|\?\?|\.\.\.\.", re.IGNORECASE)


def normalise_many(texts: list[str]) -> list[str]:
    cleaned = [unicodedata.normalize("NFC", t or "")[:2000] for t in texts]
    full, plain = _preprocessor(), _preprocessor_plain()
    return [(full if _NEEDS_FULL.search(t) else plain).transform(t) for t in cleaned]


def words_of(normalised: str) -> list[str]:
    return _WORD.findall(normalised)


@functools.lru_cache(maxsize=200_000)
def word_features(word: str) -> tuple[str, ...]:
    """The features one word gives on its own: itself, folded, and the folded form's character 3–5-grams."""
    folded = _fold_word(word)
    out = ["w:" + word, "f:" + folded]
    bare = folded[4:] if folded.startswith("neg_") else folded
    padded = f"<{bare}>"
    for size in (3, 4, 5):
        out.extend("c:" + padded[i : i + size] for i in range(len(padded) - size + 1))
    return tuple(out)


def pair_features(first: str, second: str) -> tuple[str, str]:
    """The features of two neighbouring words: the bigram as written and folded."""
    return "b:" + first + " " + second, "g:" + _fold_word(first) + " " + _fold_word(second)


def marks(normalised: str) -> list[str]:
    # A question is rarely praise or blame: the mark itself is a feature.
    return [m for m, present in (("p:?", "?" in normalised), ("p:!", "!" in normalised)) if present]


def features(normalised: str) -> list[str]:
    """The feature strings of one preprocessed comment (duplicates kept: they count). The order carries no meaning:
    a comment is a bag of them (accented and folded words and bigrams, folded character n-grams, marks)."""
    words = words_of(normalised)
    out: list[str] = []
    for w in words:
        out.extend(word_features(w))
    for a, b in zip(words, words[1:], strict=False):
        out.extend(pair_features(a, b))
    out.extend(marks(normalised))
    return out
