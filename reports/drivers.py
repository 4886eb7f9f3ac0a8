"""What moves the score: key-driver analysis (ISO 9001 9.1.3, analysis and evaluation).

Relative importance by Johnson's relative weights (Johnson 2000): the attributes are replaced by their closest
orthogonal counterparts Z = X·R^(-1/2); the headline is regressed on Z, and each Z's share of R² is handed back to
the attributes by the squared loadings of X on Z. The weights add up to R² and, unlike regression coefficients,
stay sensible when attributes are correlated (they always are: a customer who liked the delivery tends to like the
staff). They approximate closely the exact Shapley / LMG decomposition of R², which costs 2^p regressions; the tests
check the two against each other on a worked example.

Intervals are percentile bootstrap intervals (resampling respondents), named beside the figure. The expected change
of the headline per one-point move of an attribute, others held fixed, is the least-squares coefficient, with its own
bootstrap interval. Below `MIN_N` complete responses the analysis says "not enough responses" instead.

A driver can be a theme too: "the comment mentions delivery" as a 0/1 column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.utils import timezone

from surveys.models import Answer, Question, Response, Survey
from surveys.scoring import QuestionKind

MIN_N = 30
BOOTSTRAP = 400
# Newest complete responses read for one analysis: enough for tight intervals, bounded work at a million responses.
MAX_RESPONSES = 5000
HEADLINE_KINDS = (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)
ATTRIBUTE_KINDS = (QuestionKind.RATING, QuestionKind.CSAT, QuestionKind.CES)
# A theme is offered as a driver once this share of the analysed responses mention it.
THEME_MIN_SHARE = 0.02


def relative_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's raw relative weights (one per column of x, summing to R²) and R². Constant columns weigh 0."""
    n, p = x.shape
    weights = np.zeros(p)
    sd = x.std(axis=0)
    keep = sd > 1e-12
    if y.std() <= 1e-12 or not keep.any():
        return weights, 0.0
    xs = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    ys = (y - y.mean()) / y.std()
    rxx = (xs.T @ xs) / n
    rxy = (xs.T @ ys) / n
    eigenvalues, vectors = np.linalg.eigh(rxx)
    eigenvalues = np.clip(eigenvalues, 1e-12, None)
    loadings = vectors @ np.diag(np.sqrt(eigenvalues)) @ vectors.T  # R^(1/2): corr(X, Z)
    beta = np.linalg.solve(loadings, rxy)  # the headline on Z
    raw = (loadings**2) @ (beta**2)
    weights[keep] = raw
    return weights, float(raw.sum())


def ols_effects(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Change of y per one-unit rise of each column, the others held fixed (least squares with an intercept)."""
    design = np.column_stack([np.ones(len(x)), x])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coefficients[1:]


@dataclass
class Driver:
    name: str
    kind: str  # "attribute" or "theme"
    importance: float  # share of R², in %
    importance_low: float
    importance_high: float
    effect: float  # headline points per one point of the attribute (or for a theme mentioned)
    effect_low: float
    effect_high: float
    performance: float  # mean rating as % of its scale (attributes), share mentioning (themes)
    mean: float
    fix_first: bool = False


@dataclass
class DriverAnalysis:
    n: int
    min_n: int
    enough: bool
    r2: float = 0.0
    r2_low: float = 0.0
    r2_high: float = 0.0
    headline: str = ""
    drivers: list[Driver] | None = None
    method: str = "Johnson's relative weights; 95% percentile bootstrap"


def drivers_analyse(
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    kinds: list[str] | None = None,
    scales: list[tuple[float, float]] | None = None,
    min_n: int = MIN_N,
    rounds: int = BOOTSTRAP,
    seed: int = 0,
) -> DriverAnalysis:
    n, p = x.shape
    if n < max(min_n, p + 2):
        return DriverAnalysis(n=n, min_n=min_n, enough=False)
    kinds = kinds or ["attribute"] * p
    scales = scales or [(float(x[:, j].min()), float(x[:, j].max())) for j in range(p)]
    raw, r2 = relative_weights(x, y)
    effects = ols_effects(x, y)
    rng = np.random.default_rng(seed)
    boot_share = np.zeros((rounds, p))
    boot_r2 = np.zeros(rounds)
    boot_effect = np.zeros((rounds, p))
    for b in range(rounds):
        sample = rng.integers(0, n, n)
        w, r = relative_weights(x[sample], y[sample])
        boot_share[b] = 100 * w / r if r > 0 else 0
        boot_r2[b] = r
        boot_effect[b] = ols_effects(x[sample], y[sample])
    share = 100 * raw / r2 if r2 > 0 else np.zeros(p)
    drivers = []
    for j in range(p):
        low, high = scales[j]
        mean = float(x[:, j].mean())
        performance = 100 * (mean - low) / (high - low) if high > low else 100.0
        if kinds[j] == "theme":
            performance = 100 * mean
        drivers.append(
            Driver(
                name=names[j],
                kind=kinds[j],
                importance=float(share[j]),
                importance_low=float(np.percentile(boot_share[:, j], 2.5)),
                importance_high=float(np.percentile(boot_share[:, j], 97.5)),
                effect=float(effects[j]),
                effect_low=float(np.percentile(boot_effect[:, j], 2.5)),
                effect_high=float(np.percentile(boot_effect[:, j], 97.5)),
                performance=float(performance),
                mean=mean,
            )
        )
    _mark_fix_first(drivers)
    drivers.sort(key=lambda d: -d.importance)
    return DriverAnalysis(
        n=n,
        min_n=min_n,
        enough=True,
        r2=r2,
        r2_low=float(np.percentile(boot_r2, 2.5)),
        r2_high=float(np.percentile(boot_r2, 97.5)),
        drivers=drivers,
    )


def _mark_fix_first(drivers: list[Driver]) -> None:
    """Important and poorly rated: above the median importance, below the median performance (attributes only)."""
    attributes = [d for d in drivers if d.kind == "attribute"]
    if len(attributes) < 2:
        return
    importance = float(np.median([d.importance for d in attributes]))
    performance = float(np.median([d.performance for d in attributes]))
    for d in attributes:
        d.fix_first = d.importance >= importance and d.performance <= performance


# --- Reading a survey's answers ------------------------------------------------------------------------------


def headline_question(survey: Survey) -> Question | None:
    questions = survey.current_version.questions.order_by("position") if survey.current_version else []
    return next((q for q in questions if q.kind in HEADLINE_KINDS), None)


def survey_drivers(
    survey: Survey, start: date, end: date, *, language: str, with_themes: bool = True
) -> DriverAnalysis | None:
    """Drivers of the survey's headline over [start, end] from its newest complete responses; None when the
    survey has no attribute question (nothing to analyse)."""
    headline = headline_question(survey)
    if headline is None:
        return None
    attributes = [
        q
        for q in Question.objects.filter(version__survey=survey, kind__in=ATTRIBUTE_KINDS).order_by("position")
        if q.pk != headline.pk and q.version_id == survey.current_version_id
    ]
    if not attributes:
        return None
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tz)
    response_ids = list(
        Response.objects.filter(survey=survey, submitted_at__gte=since, submitted_at__lt=until)
        .order_by("-submitted_at")
        .values_list("pk", flat=True)[: MAX_RESPONSES * 2]
    )
    wanted = [headline.pk, *[q.pk for q in attributes]]
    values: dict[int, dict[int, int]] = {}
    for rid, qid, number in Answer.objects.filter(
        response_id__in=response_ids, question_id__in=wanted, number__isnull=False
    ).values_list("response_id", "question_id", "number"):
        values.setdefault(rid, {})[qid] = number
    complete = [rid for rid in response_ids if len(values.get(rid, {})) == len(wanted)][:MAX_RESPONSES]
    y = np.array([values[r][headline.pk] for r in complete], dtype=float)
    columns = [np.array([values[r][q.pk] for r in complete], dtype=float) for q in attributes]
    names = [q.text(language) for q in attributes]
    kinds = ["attribute"] * len(attributes)
    scales = [(float(q.scale.low), float(q.scale.high)) for q in attributes]
    if with_themes and complete:
        for name, column in _theme_columns(complete, language):
            columns.append(column)
            names.append(name)
            kinds.append("theme")
            scales.append((0.0, 1.0))
    x = np.column_stack(columns) if complete else np.zeros((0, len(columns)))
    analysis = drivers_analyse(x, y, names, kinds=kinds, scales=scales)
    analysis.headline = headline.text(language)
    return analysis


def _theme_columns(response_ids: list[int], language: str) -> list[tuple[str, np.ndarray]]:
    from insight.models import CommentTheme, Theme

    position = {rid: i for i, rid in enumerate(response_ids)}
    mentions: dict[int, np.ndarray] = {}
    for rid, theme_id in CommentTheme.objects.filter(comment__response_id__in=response_ids).values_list(
        "comment__response_id", "theme_id"
    ):
        mentions.setdefault(theme_id, np.zeros(len(response_ids)))[position[rid]] = 1.0
    themes = Theme.objects.in_bulk(list(mentions))
    return [
        (themes[tid].name(language), column)
        for tid, column in sorted(mentions.items(), key=lambda kv: -kv[1].sum())
        if column.mean() >= THEME_MIN_SHARE and tid in themes and themes[tid].active  # a retired theme is no driver
    ]
