"""The closed loop: detractor answers open exactly one case each; other answers open none."""

import pytest
from django.test import Client
from django.urls import reverse

from feedback.loop import case_from_response
from feedback.models import ComplaintCase
from tests.factories import CustomerFactory, make_invitation, make_survey, quality_manager
from tests.helpers import set_eager

pytestmark = pytest.mark.django_db


def answer(survey, score, comment="", customer=None, capture=None):
    invitation, token = make_invitation(survey=survey, customer=customer or CustomerFactory())
    q1, q2 = survey.current_version.questions.order_by("position")
    data = {f"q{q1.pk}": str(score)}
    if comment:
        data[f"q{q2.pk}"] = comment
    with capture(execute=True):
        Client().post(reverse("respond", args=[token]), data)
    return invitation


@pytest.mark.parametrize(
    ("kind", "score", "opens"),
    [
        ("nps", 0, True),
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 10, False),
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("ces", 5, False),
        ("ces", 6, True),
        ("ces", 7, True),
    ],
)
def test_detractor_answers_open_a_case(kind, score, opens, django_capture_on_commit_callbacks):
    owner = quality_manager()
    survey = make_survey(kind=kind, owner=owner)
    invitation = answer(survey, score, "Chờ quá lâu", capture=django_capture_on_commit_callbacks)
    cases = list(ComplaintCase.objects.all())
    assert len(cases) == (1 if opens else 0)
    if opens:
        case = cases[0]
        assert case.response.invitation_id == invitation.pk and case.channel == "survey"
        assert case.assignee == owner and case.customer == invitation.customer
        assert "Chờ quá lâu" in case.description


def test_thresholds_are_configurable_per_survey(django_capture_on_commit_callbacks):
    survey = make_survey(kind="nps")
    survey.nps_detractor_max = 7
    survey.save()
    answer(survey, 7, capture=django_capture_on_commit_callbacks)
    assert ComplaintCase.objects.count() == 1
    quiet = make_survey(kind="nps")
    quiet.closed_loop = False
    quiet.save()
    answer(quiet, 0, capture=django_capture_on_commit_callbacks)
    assert ComplaintCase.objects.count() == 1


def test_running_the_task_again_opens_no_second_case(django_capture_on_commit_callbacks):
    survey = make_survey(kind="csat")
    answer(survey, 1, capture=django_capture_on_commit_callbacks)
    case = ComplaintCase.objects.get()
    assert case_from_response(case.response_id) == "exists"
    assert ComplaintCase.objects.count() == 1


def test_a_satisfied_response_given_to_the_task_opens_nothing(django_capture_on_commit_callbacks):
    from surveys.models import Response

    survey = make_survey(kind="nps")
    answer(survey, 10, capture=django_capture_on_commit_callbacks)
    assert case_from_response(Response.objects.get().pk) == "not-a-detractor"
    assert ComplaintCase.objects.count() == 0


def test_a_lost_message_is_caught_by_the_next_sweep(django_capture_on_commit_callbacks):
    """A detractor whose signal never led to a case (worker down, message lost) gets one from beat's sweep."""
    import time_machine
    from django.utils import timezone

    from feedback.loop import sweep
    from feedback.models import ComplaintSettings
    from surveys.responding import link_for_token, parse_answers, questions_of, response_submit

    survey = make_survey(kind="nps")
    _inv, token = make_invitation(survey=survey)
    questions = questions_of(survey.current_version)
    parsed = parse_answers(questions, {f"q{questions[0].pk}": "2"})
    # Stored with its commit callbacks dropped: nobody heard about it.
    with django_capture_on_commit_callbacks(execute=False):
        response, _created = response_submit(
            link=link_for_token(token), survey=survey, questions=questions, answers=parsed, language="vi"
        )
    assert ComplaintCase.objects.count() == 0
    assert sweep() == 1
    assert ComplaintCase.objects.get().response_id == response.pk
    assert sweep() == 0  # idempotent
    # The watermark only passes responses old enough that no earlier transaction can still commit below them.
    assert ComplaintSettings.load().loop_watermark < response.pk
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=5)):
        sweep()
    assert ComplaintSettings.load().loop_watermark == response.pk


def test_sweep_requests_are_debounced_when_a_broker_is_used(monkeypatch, django_capture_on_commit_callbacks):
    from config import debounce
    from feedback import loop
    from feedback.tasks import sweep_detractors

    sent = []
    monkeypatch.setattr(sweep_detractors, "apply_async", lambda **kw: sent.append(kw))
    publisher = debounce._Publisher(start=False)  # flushed by hand below, instead of by its thread
    monkeypatch.setattr(debounce, "_publisher", lambda: publisher)
    survey = make_survey(kind="csat")
    set_eager(False)
    try:
        for _ in range(5):
            answer(survey, 1, capture=django_capture_on_commit_callbacks)
        answer(survey, 5, capture=django_capture_on_commit_callbacks)
    finally:
        set_eager(True)
    assert sent == []  # nothing published inside the requests
    assert publisher.flush(now=100.0) == 0
    assert sent == [{"retry": False}]  # one message for six answers, without a countdown
    publisher.ask(sweep_detractors, loop.DEBOUNCE_SECONDS)
    assert publisher.flush(now=101.0) == 1 and len(sent) == 1  # too soon: kept for later
    assert publisher.flush(now=100.0 + loop.DEBOUNCE_SECONDS) == 0 and len(sent) == 2
    assert ComplaintCase.objects.count() == 0  # the one sweep, when it runs, opens all five
    assert loop.sweep() == 5


@pytest.mark.parametrize(
    ("language", "summary"),
    [("vi", "Điểm NPS 6 trong khảo sát “Khảo sát NPS”."), ("en", "NPS score 6 in the survey “NPS survey”.")],
)
def test_the_closed_loop_summary_is_drawn_in_the_readers_language(
    staff_client, django_capture_on_commit_callbacks, language, summary
):
    from django.urls import reverse

    survey = make_survey(kind="nps")
    answer(survey, 6, "Chờ quá lâu", capture=django_capture_on_commit_callbacks)
    case = ComplaintCase.objects.get()
    # The record holds the customer's words only, in no language of ours.
    assert case.description == "Chờ quá lâu"
    html = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language).content
    assert summary in html.decode()


def test_a_backlog_larger_than_a_batch_is_swept_in_one_run(monkeypatch, django_capture_on_commit_callbacks):
    # After an outage, or under load, the last minutes (which the watermark stays behind) can hold more responses
    # than one batch: one sweep pages through all of them, so no case waits for the next beat period.
    from config import debounce
    from feedback import loop

    survey = make_survey(kind="csat")
    set_eager(False)  # the answers only ask for a sweep; nobody runs it yet
    monkeypatch.setattr(debounce, "_publisher", lambda: debounce._Publisher(start=False))
    try:
        for _ in range(7):
            answer(survey, 1, capture=django_capture_on_commit_callbacks)
    finally:
        set_eager(True)
    assert ComplaintCase.objects.count() == 0
    monkeypatch.setattr(loop, "SWEEP_BATCH", 2)
    assert loop.sweep() == 7
    assert ComplaintCase.objects.count() == 7
