"""Starting a survey from a template, and duplicating one."""

import pytest
from django.urls import reverse

from surveys import building
from surveys.models import Survey
from surveys.starters import STARTERS
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db


def test_each_template_makes_a_draft_with_its_questions_in_both_languages(qm_client, qm):
    page = qm_client.get(reverse("survey_create")).content.decode()
    for name in ("NPS định kỳ", "CSAT sau khi hỗ trợ", "CES sau khi bắt đầu sử dụng", "Đánh giá xử lý khiếu nại"):
        assert name in page
    for starter in STARTERS:
        done = qm_client.post(reverse("survey_from_starter"), {"starter": starter.key})
        survey = Survey.objects.get(title_en=starter.title["en"])
        assert done["Location"] == reverse("survey_detail", args=[survey.pk])
        assert survey.status == "draft" and survey.kind == starter.kind and survey.owner == qm
        questions = list(survey.current_version.questions.order_by("position"))
        assert [(q.position, q.kind, q.text_vi, q.text_en) for q in questions] == [
            (i, spec["kind"], spec["vi"], spec["en"]) for i, spec in enumerate(starter.questions, start=1)
        ]
        assert questions[0].kind == starter.kind  # the headline question measures what the survey measures
    nps = Survey.objects.get(title_en=STARTERS[0].title["en"])
    follow_ups = {q.text_en: (q.show_if_min, q.show_if_max) for q in nps.current_version.questions.all()}
    assert follow_ups["What should we improve?"] == (0, 6) and follow_ups["What did you like most?"] == (9, 10)
    detail = qm_client.get(reverse("survey_detail", args=[nps.pk])).content.decode()
    assert "câu hỏi tiếp nối: hỏi khi điểm từ 0–6" in detail
    bad = qm_client.post(reverse("survey_from_starter"), {"starter": "nope"})
    assert bad.status_code == 302 and Survey.objects.count() == len(STARTERS)


def test_duplicating_copies_the_design_but_not_the_answers(qm_client, qm):
    survey = make_survey(kind="csat", owner=qm)
    survey.nps_detractor_max, survey.csat_detractor_max = 5, 1
    survey.save()
    building.question_add(
        version=survey.current_version, kind="text", text_en="Why?", text_vi="Vì sao?", show_if_min=1, show_if_max=2
    )
    make_response(survey, 4)
    page = qm_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert reverse("survey_duplicate", args=[survey.pk]) in page
    done = qm_client.post(reverse("survey_duplicate", args=[survey.pk]))
    copy = Survey.objects.exclude(pk=survey.pk).get()
    assert done["Location"] == reverse("survey_detail", args=[copy.pk])
    assert copy.title_vi == "Khảo sát CSAT (bản sao)" and copy.title_en == "CSAT survey (copy)"
    assert copy.status == "draft" and copy.csat_detractor_max == 1 and copy.responses.count() == 0
    original = list(survey.current_version.questions.values_list("kind", "text_vi", "show_if_min", "show_if_max"))
    assert list(copy.current_version.questions.values_list("kind", "text_vi", "show_if_min", "show_if_max")) == (
        original
    )
    # The copy is not locked by the original's answers: its questions can change.
    building.question_add(version=copy.current_version, kind="text", text_en="More?", text_vi="Thêm?")
    assert survey.current_version.questions.count() == len(original)
