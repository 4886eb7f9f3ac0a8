from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from reports.models import QualityObjective
from reports.objectives import objective_progress, objective_save
from reports.rollup import rollup_refresh
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def objective(**fields):
    values = {
        "title": "NPS ≥ 20",
        "metric": "nps",
        "target": 20,
        "start": TODAY - timedelta(days=30),
        "due": TODAY + timedelta(days=60),
        "method": "NPS của khảo sát quan hệ, xem hằng tháng",
    }
    values.update(fields)
    return objective_save(objective=QualityObjective(), **values)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"survey": None}, "survey"),
        ({"metric": "csat"}, "metric"),  # the survey measures NPS
        ({"target": 150}, "target"),
        ({"due": TODAY - timedelta(days=90)}, "due"),
        ({"metric": "on_time", "target": 90}, "survey"),  # complaints do not come from a survey
    ],
)
def test_an_objective_that_cannot_be_measured_as_stated_is_refused(qm, fields, field):
    survey = make_survey(kind="nps")
    with pytest.raises(ValidationError) as error:
        objective(**{"survey": survey, "owner": qm, **fields})
    assert field in error.value.message_dict
    assert QualityObjective.objects.count() == 0


def test_progress_comes_from_the_data_with_its_interval(qm):
    survey = make_survey(kind="nps")
    for score in [10] * 60 + [8] * 20 + [3] * 20:  # NPS 40, n = 100, interval about 25–53
        make_response(survey, score, at=timezone.now() - timedelta(days=2))
    rollup_refresh()
    easy = objective(survey=survey, owner=qm, target=20)
    hard = objective(survey=survey, owner=qm, target=45)
    close = objective(survey=survey, owner=qm, target=35)
    assert objective_progress(easy).estimate.value == pytest.approx(40.0)
    # NPS 40 (n = 100). Adjusted Wald: n' = 103, p' = 60.75/103 = .58981, d' = 20.75/103 = .20146, centre .38835,
    # Var = (.58981 + .20146 − .38835²)/103 = .0062181, half-width 1.96·.078855 = .15455 → 23.4 – 54.3.
    # A target of 20 lies below the whole interval: met. 35 and 45 lie inside it: the data cannot say yet,
    # whichever side the figure is on. 60 lies above it: not met.
    never = objective(survey=survey, owner=qm, target=60)
    verdict = {
        name: objective_progress(o).verdict
        for name, o in (("easy", easy), ("close", close), ("hard", hard), ("never", never))
    }
    assert verdict == {"easy": "met", "close": "unclear", "hard": "unclear", "never": "not_met"}
    assert objective_progress(close).met is None
    # n = 100 detects about ±(1.96 + 0.8416)·SE with SE = 7.8855 points: ±22.1 NPS points.
    assert objective_progress(close).detectable == pytest.approx(22.09, abs=0.01)
    later = objective(survey=survey, owner=qm, start=TODAY + timedelta(days=1), due=TODAY + timedelta(days=9))
    assert objective_progress(later).met is None  # nothing measured in its period yet


def test_lower_is_better_for_effort(qm):
    survey = make_survey(kind="ces")
    for score in [2] * 40:
        make_response(survey, score)
    rollup_refresh()
    goal = objective(survey=survey, owner=qm, metric="ces", target=3)
    assert (objective_progress(goal).met, objective_progress(goal).beyond_doubt) == (True, True)


def test_identical_answers_do_not_make_a_target_on_their_own_value_met_beyond_doubt(qm):
    # 30 answers, every one a 3, against "CES at most 3": the t interval was 3.00 – 3.00 and the objective "met"; the
    # interval the answers allow (about 2.77 – 3.45) straddles the target.
    survey = make_survey(kind="ces")
    for _ in range(30):
        make_response(survey, 3)
    rollup_refresh()
    progress = objective_progress(objective(survey=survey, owner=qm, metric="ces", target=3))
    assert progress.verdict == "unclear" and progress.met is None
    assert progress.estimate.high == pytest.approx(3.4541, abs=1e-3)


def test_a_quality_manager_sets_and_changes_an_objective_and_its_history_is_kept(qm_client, qm):
    survey = make_survey(kind="nps")
    data = {
        "title": "Tăng NPS",
        "metric": "nps",
        "target": "30",
        "survey": survey.pk,
        "segment": "",
        "start": "2026-01-01",
        "due": "2026-12-31",
        "owner": qm.pk,
        "method": "Hằng tháng",
        "active": "on",
    }
    refused = qm_client.post(reverse("objective_new"), {**data, "target": "300"})
    assert refused.status_code == 200 and "Chỉ tiêu phải nằm trong khoảng từ -100 đến 100." in refused.content.decode()
    assert 'value="Tăng NPS"' in refused.content.decode()  # what was typed is kept
    created = qm_client.post(reverse("objective_new"), data)
    goal = QualityObjective.objects.get()
    assert created.url == reverse("objective_detail", args=[goal.pk])
    qm_client.post(reverse("objective_edit", args=[goal.pk]), {**data, "target": "35"})
    page = qm_client.get(reverse("objective_detail", args=[goal.pk])).content.decode()
    assert "30,0" in page and "35,0" in page  # the change, before and after, in the field history
    listing = qm_client.get(reverse("objective_list")).content.decode()
    assert "Tăng NPS" in listing and "≥ 35" in listing


def test_the_dashboard_shows_the_objective_and_its_target_line(qm_client, qm):
    survey = make_survey(kind="nps")
    for score in [10] * 40:
        make_response(survey, score)
    rollup_refresh()
    objective(survey=survey, owner=qm, target=25, title="NPS năm nay")
    html = qm_client.get(reverse("dashboard")).content.decode()
    assert "NPS năm nay" in html and 'data-testid="dashboard-objectives"' in html
    trend = html[html.index('id="fig-trend"') :]
    assert '"name": "Ch\\u1ec9 ti\\u00eau"' in trend and '"y": [25.0' in trend


def test_objectives_list_is_empty_at_first(qm_client):
    assert "Chưa có mục tiêu chất lượng nào" in qm_client.get(reverse("objective_list")).content.decode()


def test_progress_counts_only_the_objectives_period(qm):
    survey = make_survey(kind="csat")
    for score in [5] * 40:
        make_response(survey, score, at=timezone.now() - timedelta(days=200))
    rollup_refresh()
    goal = objective(survey=survey, owner=qm, metric="csat", target=80, start=TODAY - timedelta(days=30))
    assert objective_progress(goal).estimate.n == 0
    assert isinstance(objective_progress(goal).until, date)


def test_progress_counts_the_headline_question_only_as_the_dashboard_does(qm):
    # 40 responses answer 10 on the headline NPS question and 0 on a second NPS question. The dashboard shows NPS
    # 100 with n = 40 (the second question has its own figure). Pooled, the objective read n = 80, NPS 0, and
    # called "NPS ≥ 50" not met (interval about −21 to 21) where the headline is 100 (interval about 91 to 100).
    from surveys import building
    from surveys.models import Answer

    survey = building.survey_create(owner=qm, kind="nps", title_en="Two", title_vi="Hai", with_comment=False)
    second = building.question_add(
        version=survey.current_version, kind="nps", text_en="And us?", text_vi="Còn chúng tôi?"
    )
    building.survey_activate(survey=survey)
    for _ in range(40):
        Answer.objects.create(response=make_response(survey, 10), question=second, number=0)
    rollup_refresh()
    progress = objective_progress(objective(survey=survey, owner=qm, target=50))
    assert (progress.estimate.n, progress.estimate.value, progress.verdict) == (40, 100.0, "met")
    share = objective_progress(objective(survey=survey, owner=qm, metric="detractors", target=10))
    assert (share.estimate.n, share.estimate.value, share.verdict) == (40, 0.0, "met")
