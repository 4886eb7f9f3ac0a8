"""Item 10: a segment named like an HTML link became a clickable link in a dashboard chart."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from reports import charts
from reports.rollup import rollup_refresh
from tests.factories import CustomerFactory, make_response, make_survey

pytestmark = pytest.mark.django_db
EVIL = '<a href="https://evil.example/">Bấm vào đây</a>'


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("hovertemplate", "texttemplate"):
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_every_chart_text_is_plain_text():
    figure = charts.as_json(
        {
            "data": [{"type": "bar", "x": [EVIL], "y": [1], "name": EVIL, "text": [EVIL], "hovertext": [EVIL],
                      "hovertemplate": "%{y}<extra></extra>"}],
            "layout": {"title": {"text": EVIL}, "annotations": [{"text": EVIL}]},
        }
    )  # fmt: skip
    texts = list(_strings(figure))
    assert len(texts) >= 6 and not any("<" in text for text in texts)
    assert figure["data"][0]["x"] == ['&lt;a href="https://evil.example/"&gt;Bấm vào đây&lt;/a&gt;']
    assert figure["data"][0]["hovertemplate"] == "%{y}<extra></extra>"  # ours, kept as markup


def test_a_hostile_segment_name_reaches_the_dashboard_as_text(qm_client):
    survey = make_survey(kind="nps")
    # 40 answers a segment: segments below REPORTS_MIN_N are not drawn (issue 9).
    for i in range(80):
        customer = CustomerFactory(segment=EVIL if i % 2 else "retail")
        make_response(survey=survey, score=i % 11, customer=customer)
    rollup_refresh()
    page = qm_client.get(reverse("dashboard"), {"survey": survey.pk}).content.decode()
    figures = re.findall(r'<script id="fig-[a-z]+" type="application/json">(.*?)</script>', page, re.S)
    assert figures
    texts = [text for raw in figures for text in _strings(json.loads(raw))]
    assert any("evil.example" in text for text in texts)  # the segment is there...
    assert not any("<a" in text for text in texts)  # ...as text, never as a link
