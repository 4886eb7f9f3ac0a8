"""The one write path for themes and corrections. Each change to the theme list moves the revision, so the worker
reads every comment again after the commit; a correction applies at once and is kept through recomputes."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from insight import pipeline, rollups
from insight.models import CommentInsight, CommentTheme, Sentiment, Theme, ThemeCorrection
from insight.starter import STARTER_THEMES

MAX_EXAMPLES = 50


def _clean_examples(examples: str) -> str:
    lines = [line.strip() for line in examples.splitlines() if line.strip()]
    if not lines:
        raise ValidationError({"examples": _("Give at least one example phrase, one a line.")})
    if len(lines) > MAX_EXAMPLES:
        raise ValidationError({"examples": _("At most %(n)d example phrases.") % {"n": MAX_EXAMPLES}})
    return "\n".join(lines)


@transaction.atomic
def theme_create(*, name_vi: str, name_en: str, examples: str, key: str = "") -> Theme:
    key = key or slugify(name_en or name_vi)[:50] or "theme"
    base, n = key, 2
    while Theme.objects.filter(key=key).exists():
        key, n = f"{base[:45]}-{n}", n + 1
    theme = Theme(key=key, name_vi=name_vi.strip(), name_en=name_en.strip(), examples=_clean_examples(examples))
    theme.full_clean()
    theme.save()
    pipeline.revision_bump()
    return theme


@transaction.atomic
def theme_update(*, theme: Theme, name_vi: str, name_en: str, examples: str, active: bool) -> Theme:
    cleaned = _clean_examples(examples)
    changed_model = cleaned != theme.examples or active != theme.active
    theme.name_vi, theme.name_en, theme.examples, theme.active = name_vi.strip(), name_en.strip(), cleaned, active
    theme.full_clean()
    theme.save()
    if not active:
        # A retired theme stops counting now; its rows go, the comments are read again without it.
        retired = CommentTheme.objects.filter(theme=theme, source=CommentTheme.Source.MODEL)
        rollups.mark(rollups.days_of(retired))
        retired.delete()
        rollups.request_refresh()
        pipeline.state_touch()
    if changed_model:
        pipeline.revision_bump()
    return theme


@transaction.atomic
def themes_seed_starter() -> int:
    """Add the starter themes that are missing (the demo, or a manager who asks for them); returns how many."""
    added = 0
    for starter in STARTER_THEMES:
        _theme, created = Theme.objects.get_or_create(
            key=starter["key"],
            defaults={
                "name_vi": starter["name_vi"],
                "name_en": starter["name_en"],
                "examples": "\n".join(starter["examples"]),
            },
        )
        added += created
    if added:
        pipeline.revision_bump()
    return added


@transaction.atomic
def comment_correct(
    *, comment: CommentInsight, themes: Iterable[Theme], sentiment: str, actor: AbstractBaseUser
) -> ThemeCorrection:
    """Staff say what the comment is about (and, optionally, how it feels). Kept; it trains the next model."""
    if sentiment and sentiment not in Sentiment.values:
        raise ValidationError({"sentiment": _("Choose a sentiment from the list.")})
    themes = [t for t in themes if t.active]
    correction, _created = ThemeCorrection.objects.update_or_create(
        comment=comment, defaults={"sentiment": sentiment, "corrected_by": actor, "corrected_at": timezone.now()}
    )
    correction.themes.set(themes)
    CommentTheme.objects.filter(comment=comment).delete()
    CommentTheme.objects.bulk_create(
        [
            CommentTheme(
                comment=comment,
                theme=t,
                confidence=1.0,
                source=CommentTheme.Source.STAFF,
                survey_id=comment.survey_id,
                submitted_at=comment.submitted_at,
                score=comment.score,
            )
            for t in themes
        ]
    )
    comment.corrected = True
    if sentiment:
        comment.sentiment, comment.sentiment_confidence = sentiment, 1.0
    comment.save(update_fields=["corrected", "sentiment", "sentiment_confidence"])
    rollups.mark([(comment.survey_id, comment.submitted_at)])
    rollups.request_refresh()
    pipeline.state_touch()
    return correction
