"""A model multiple-choice field given a value that is no id: a plain "not a valid choice", never a 500 page.

On SQLite Django's own field queried with the value and an integer beyond 64 bits raised OverflowError."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django import forms
from django.urls import reverse

from config.forms import ModelMultipleChoiceField
from feedback.models import CorrectiveAction
from insight import pipeline, services
from insight.models import CommentInsight, Theme, ThemeCorrection
from surveys.models import Answer
from tests.factories import make_response, make_survey

ROOT = Path(__file__).resolve().parent.parent.parent
NOT_IDS = ["1" * 25, "99999999999999999999", "²", "-1", "1e3", " 7"]


def _action(qm, themes):
    return {"title": "Giao hàng trễ", "nonconformity": "Khách chờ quá lâu", "owner": qm.pk, "themes": themes}


@pytest.mark.django_db
@pytest.mark.parametrize("value", NOT_IDS)
def test_a_corrective_action_with_a_theme_that_is_no_id_is_refused_and_nothing_is_made(client, qm, value):
    services.themes_seed_starter()
    client.force_login(qm)
    page = client.post(reverse("action_create"), _action(qm, [Theme.objects.first().pk, value]))
    assert page.status_code == 200
    assert "không phải là một trong các lựa chọn" in page.content.decode()
    assert not CorrectiveAction.objects.exists()


@pytest.mark.django_db
def test_a_corrective_action_with_real_themes_is_still_made(client, qm):
    services.themes_seed_starter()
    theme = Theme.objects.first()
    client.force_login(qm)
    page = client.post(reverse("action_create"), _action(qm, [str(theme.pk)]))
    assert page.status_code == 302
    assert list(CorrectiveAction.objects.get().themes.all()) == [theme]


@pytest.mark.django_db
@pytest.mark.parametrize("value", NOT_IDS)
def test_a_comment_correction_with_a_theme_that_is_no_id_is_refused_and_nothing_is_kept(client, qm, value):
    services.themes_seed_starter()
    survey = make_survey(owner=qm)
    response = make_response(survey, 6)
    question = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=question, text="Giá hơi đắt")
    pipeline.comments_sweep()
    comment = CommentInsight.objects.get(response=response)
    before = set(comment.themes.values_list("theme_id", flat=True))
    client.force_login(qm)
    page = client.post(reverse("comment_correct", args=[comment.pk]), {"themes": [value], "sentiment": "negative"})
    assert page.status_code == 200
    assert "không phải là một trong các lựa chọn" in page.content.decode()
    assert not ThemeCorrection.objects.exists()
    assert set(comment.themes.values_list("theme_id", flat=True)) == before


def _all_form_classes() -> set[type[forms.BaseForm]]:
    for path in ROOT.glob("*/forms.py"):
        importlib.import_module(f"{path.parent.name}.forms")
    found: set[type[forms.BaseForm]] = set()
    todo: list[type[forms.BaseForm]] = [forms.BaseForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return {cls for cls in found if not cls.__module__.startswith("django.")}


def test_every_model_multiple_choice_field_in_the_project_s_forms_reads_ids_first():
    # Declared fields and those a ModelForm makes from a ManyToManyField alike (base_fields holds both).
    classes = _all_form_classes()
    assert any(cls.__name__ == "ActionForm" for cls in classes)
    wrong = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in getattr(cls, "base_fields", {}).items()
        if isinstance(field, forms.ModelMultipleChoiceField) and not isinstance(field, ModelMultipleChoiceField)
    ]
    assert not wrong, wrong
