"""Complaint rate per 1,000 responses and complaints by product, per period with intervals, on the dashboard; and
complaints without a category shown last, as "Other", in the Pareto."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from feedback import workflow
from feedback.models import Category, ComplaintSettings
from reports.complaints import complaint_trend, poisson_interval
from reports.rollup import rollup_refresh
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db
URL = reverse("dashboard")
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_poisson_interval_matches_the_tables():
    # Garwood's exact 95 % limits, as tabulated: 0 → (0, 3.689), 1 → (0.0253, 5.572), 10 → (4.795, 18.390).
    assert poisson_interval(0) == (0.0, pytest.approx(3.6889, abs=1e-3))
    assert poisson_interval(1) == (pytest.approx(0.02532, abs=1e-4), pytest.approx(5.5716, abs=1e-3))
    assert poisson_interval(10) == (pytest.approx(4.7954, abs=1e-3), pytest.approx(18.390, abs=1e-3))


@pytest.fixture
def period():
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=HCM), tick=False):
        survey = make_survey(kind="nps")
        for i in range(300):  # October
            make_response(survey, 9, at=datetime(2026, 10, 1 + i % 28, 9, 0, tzinfo=HCM))
        for i in range(100):  # November
            make_response(survey, 9, at=datetime(2026, 11, 1 + i % 18, 9, 0, tzinfo=HCM))
        # Answers to the complaint-handling survey come from complainants only: not in the denominator.
        handling = make_survey(kind="csat", owner=survey.owner)
        ComplaintSettings.objects.update_or_create(pk=1, defaults={"handling_survey": handling})
        for _ in range(50):
            make_response(handling, 5, at=datetime(2026, 11, 5, 9, 0, tzinfo=HCM))
        delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
        with time_machine.travel(datetime(2026, 10, 10, 9, 0, tzinfo=HCM), tick=False):
            workflow.case_create(channel="phone", description="Trễ", contact_name="A", product="Giao nhanh")
        for product, category in [("Giao nhanh", delivery), ("Giao nhanh", None), ("", None), ("Thẻ quà", None)]:
            workflow.case_create(channel="phone", description="x", contact_name="B", product=product, category=category)
        with time_machine.travel(datetime(2026, 11, 20, 10, 5, tzinfo=HCM), tick=False):
            rollup_refresh()
        yield survey


def test_the_rate_is_per_1000_responses_of_the_period_with_an_exact_interval(period, settings):
    with time_machine.travel(datetime(2026, 11, 20, 10, 10, tzinfo=HCM), tick=False):
        trend = complaint_trend(
            datetime(2026, 10, 1).date(), datetime(2026, 11, 20).date(), "month", min_n=30, other="Other"
        )
    october, november = trend["periods"]
    assert (october.label, october.complaints, october.responses) == ("10/2026", 1, 300)
    assert october.value == pytest.approx(1000 / 300)
    assert october.low == pytest.approx(0.02532 * 1000 / 300, rel=1e-3)
    assert october.high == pytest.approx(5.5716 * 1000 / 300, rel=1e-3)
    # November: 4 complaints over 100 responses (the 50 handling answers left out) → 40 per 1,000.
    assert (november.complaints, november.responses, november.value) == (4, 100, 40.0)
    assert november.partial  # the range ends on the 20th
    products = {line["name"]: line["counts"] for line in trend["products"]}
    assert products == {"Giao nhanh": [1, 2], "Thẻ quà": [0, 1], "Other": [0, 1]}
    assert [line["name"] for line in trend["products"]][-1] == "Other"
    # Below the minimum n of responses, no rate is given.
    with time_machine.travel(datetime(2026, 11, 20, 10, 10, tzinfo=HCM), tick=False):
        few = complaint_trend(
            datetime(2026, 11, 1).date(), datetime(2026, 11, 20).date(), "month", min_n=101, other="Other"
        )
    assert few["periods"][0].value is None and not few["periods"][0].enough


@pytest.mark.parametrize(
    ("language", "rate", "delivery", "other", "not_enough"),
    [
        ("vi", "40,0", "Giao hàng", "Khác", "Chưa đủ câu trả lời"),
        ("en", "40.0", "Delivery", "Other", "Not enough responses"),
    ],
)
def test_the_dashboard_shows_the_trend_and_other_last_in_the_pareto(
    period, qm_client, settings, language, rate, delivery, other, not_enough
):
    settings.REPORTS_MIN_N = 30
    with time_machine.travel(datetime(2026, 11, 20, 10, 10, tzinfo=HCM), tick=False):
        html = qm_client.get(
            URL, {"survey": period.pk, "granularity": "month"}, HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
    table = html.split('data-testid="complaint-rate-table"')[1].split("</table>")[0]
    november = table.split("11/2026")[1].split("</tr>")[0]
    assert f"{rate} " in november
    # Earlier months of the twelve have no responses: no rate, said plainly.
    assert not_enough in table.split("01/2026")[1].split("</tr>")[0]
    assert 'id="fig-complaint_rate"' in html and 'id="fig-complaint_products"' in html
    pareto = json.loads(html.split('id="fig-pareto" type="application/json">')[1].split("</script>")[0])
    names, counts = pareto["data"][0]["x"], pareto["data"][0]["y"]
    # Four complaints have no category, one has: "Other" is still drawn last.
    assert names == [delivery, other] and counts == [1, 4]
