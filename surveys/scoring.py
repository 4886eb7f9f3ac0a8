"""Question kinds, their fixed scales, and how a score is classified.

NPS, CSAT and CES questions have fixed scales so that their scores stay comparable across surveys, versions and years
(ISO 10004: a measure is only useful if it is measured the same way each time). Every other module asks this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10, how likely to recommend)")
    CSAT = "csat", _("CSAT (1–5, satisfaction)")
    CES = "ces", _("CES (1–7, effort)")
    RATING = "rating", _("Rating scale")
    SINGLE = "single", _("Single choice")
    MULTI = "multi", _("Multiple choice")
    TEXT = "text", _("Free text")


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS — Net Promoter Score")
    CSAT = "csat", _("CSAT — customer satisfaction")
    CES = "ces", _("CES — customer effort")


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    low_label: str | Promise
    high_label: str | Promise

    @property
    def values(self) -> range:
        return range(self.low, self.high + 1)


FIXED_SCALES: dict[str, Scale] = {
    QuestionKind.NPS: Scale(0, 10, _("Not at all likely"), _("Extremely likely")),
    QuestionKind.CSAT: Scale(1, 5, _("Very dissatisfied"), _("Very satisfied")),
    # CES here runs from easy to difficult, so a high score is a bad experience (6–7 are the "detractors").
    QuestionKind.CES: Scale(1, 7, _("Very easy"), _("Very difficult")),
}


def scale_ends(kind: str) -> tuple[int, int] | None:
    """The lowest and highest score of a fixed scale (NPS, CSAT, CES), or None: what bounds a mean's interval."""
    scale = FIXED_SCALES.get(kind)
    return (scale.low, scale.high) if scale is not None else None


SCALE_KINDS = frozenset({QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES, QuestionKind.RATING})
CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTI})

# Bounds for a free rating scale: wide enough for 1–10, narrow enough to render as one row of buttons on a phone.
RATING_MIN_LOW, RATING_MAX_HIGH = 0, 10
TEXT_MAX_LENGTH = 5000

DEFAULT_HEADLINE_TEXT: dict[str, dict[str, str]] = {
    SurveyKind.NPS: {
        "en": "How likely are you to recommend us to a friend or colleague?",
        "vi": "Bạn có sẵn lòng giới thiệu chúng tôi với bạn bè hoặc đồng nghiệp không?",
    },
    SurveyKind.CSAT: {
        "en": "How satisfied are you with the service you received?",
        "vi": "Bạn hài lòng thế nào với dịch vụ bạn đã nhận được?",
    },
    SurveyKind.CES: {
        "en": "How easy was it to get what you needed from us?",
        "vi": "Bạn thấy việc nhận được điều mình cần từ chúng tôi dễ dàng thế nào?",
    },
}
DEFAULT_COMMENT_TEXT = {
    "en": "What is the main reason for your score?",
    "vi": "Lý do chính cho điểm số của bạn là gì?",
}


def scale_for(kind: str, low: int | None = None, high: int | None = None) -> Scale | None:
    """The scale of a question kind: fixed for NPS/CSAT/CES, the question's own bounds for a rating."""
    if kind in FIXED_SCALES:
        return FIXED_SCALES[kind]
    if kind == QuestionKind.RATING:
        lo = RATING_MIN_LOW if low is None else low
        hi = 5 if high is None else high
        return Scale(lo, hi, _("Lowest"), _("Highest"))
    return None


class NpsCategory(models.TextChoices):
    PROMOTER = "promoter", _("Promoter")
    PASSIVE = "passive", _("Passive")
    DETRACTOR = "detractor", _("Detractor")


def nps_category(score: int) -> str:
    """0–6 detractor, 7–8 passive, 9–10 promoter."""
    if not 0 <= score <= 10:
        raise ValueError(f"NPS score out of range: {score}")
    if score >= 9:
        return NpsCategory.PROMOTER
    if score >= 7:
        return NpsCategory.PASSIVE
    return NpsCategory.DETRACTOR


def csat_satisfied(score: int) -> bool:
    """Top-2-box: 4 or 5 on the 1–5 scale counts as satisfied."""
    if not 1 <= score <= 5:
        raise ValueError(f"CSAT score out of range: {score}")
    return score >= 4


def ces_low_effort(score: int) -> bool:
    """1–2 (very easy, easy) on the 1–7 easy→difficult scale counts as low effort."""
    if not 1 <= score <= 7:
        raise ValueError(f"CES score out of range: {score}")
    return score <= 2


# What a "detractor" is in every figure (the NPS, the detractor share, the p-chart, objectives, the effectiveness of
# a corrective action, the management-review pack, exports and the API's bands): NPS 0–6 (the bands that define
# the score: NPS = % of 9–10 minus % of 0–6), CSAT 1–2 (dissatisfied), CES 6–7 (high effort). reports.rollup
# counts the same in SQL. A survey's closed-loop thresholds (Survey.detractor_ranges) only decide which answers
# open a case: moving them must never move a figure, or two pages would call different counts "detractors".
DETRACTOR_BANDS: dict[str, tuple[int, int]] = {
    QuestionKind.NPS: (0, 6),
    QuestionKind.CSAT: (1, 2),
    QuestionKind.CES: (6, 7),
}
# The three bands of each kind (detractor / passive / promoter; for CSAT and CES: dissatisfied / neutral /
# satisfied, high / middling / low effort), as the dashboard and the API's `band` filter read them.
SCORE_BANDS: dict[str, dict[str, tuple[int, int]]] = {
    QuestionKind.NPS: {"detractor": DETRACTOR_BANDS[QuestionKind.NPS], "passive": (7, 8), "promoter": (9, 10)},
    QuestionKind.CSAT: {"detractor": DETRACTOR_BANDS[QuestionKind.CSAT], "passive": (3, 3), "promoter": (4, 5)},
    QuestionKind.CES: {"detractor": DETRACTOR_BANDS[QuestionKind.CES], "passive": (3, 5), "promoter": (1, 2)},
}
# The closed loop's default thresholds ("this answer opens a case") start at the bands; a survey may move them.
DEFAULT_DETRACTOR_RANGES: dict[str, tuple[int, int]] = dict(DETRACTOR_BANDS)


def is_detractor(kind: str, score: int, ranges: dict[str, tuple[int, int]] | None = None) -> bool:
    low, high = (ranges or DEFAULT_DETRACTOR_RANGES).get(kind, (1, 0))
    return low <= score <= high


def net_promoter_score(promoters: int, detractors: int, n: int) -> float | None:
    """NPS = 100·(P − D)/n, or None when nobody answered."""
    if n <= 0:
        return None
    return 100.0 * (promoters - detractors) / n
