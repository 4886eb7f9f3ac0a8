import random
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from reports import rollup
from reports.models import DailyRollup, InvitationRollup, RollupState
from surveys import building
from surveys.models import Answer, Invitation, Response
from surveys.scoring import QuestionKind, ces_low_effort, csat_satisfied, nps_category
from tests.factories import CustomerFactory, make_invitation, make_response, make_survey

pytestmark = pytest.mark.django_db
STATS = ("count", "promoters", "passives", "detractors", "top2", "total", "total_sq")


def from_raw() -> dict[tuple, tuple]:
    """The rollups recomputed in Python from the raw answers, with scoring.py's own rules."""
    rows: dict[tuple, Counter] = {}
    answers = Answer.objects.filter(number__isnull=False).select_related("response__customer", "question")
    for answer in answers:
        question, n = answer.question, answer.number
        if question.kind not in rollup.SCORED_KINDS:
            continue
        key = (
            answer.response.survey_id,
            question.pk,
            answer.response.segment,
            answer.response.channel,
            timezone.localdate(answer.response.submitted_at),
        )
        good = bad = False
        if question.kind == QuestionKind.NPS:
            good, bad = nps_category(n) == "promoter", nps_category(n) == "detractor"
        elif question.kind == QuestionKind.CSAT:
            good, bad = csat_satisfied(n), n <= 2
        elif question.kind == QuestionKind.CES:
            good, bad = ces_low_effort(n), n >= 6
        top2 = good or (question.kind == QuestionKind.RATING and n >= (question.scale_max or 5) - 1)
        counts = rows.setdefault(key, Counter())
        counts.update(
            count=1,
            promoters=good,
            passives=question.kind != QuestionKind.RATING and not good and not bad,
            detractors=bad,
            top2=top2,
            total=n,
            total_sq=n * n,
        )
    return {key: tuple(counts[s] for s in STATS) for key, counts in rows.items()}


def stored() -> dict[tuple, tuple]:
    return {
        (r.survey_id, r.question_id, r.segment, r.channel, r.day): tuple(getattr(r, s) for s in STATS)
        for r in DailyRollup.objects.all()
    }


def test_each_scale_is_classified_as_scoring_says():
    now = timezone.now()
    for kind, scores in (("nps", range(11)), ("csat", range(1, 6)), ("ces", range(1, 8))):
        survey = make_survey(kind=kind)
        for score in scores:
            make_response(survey, score, at=now)
    rating = make_survey(kind="csat")
    building.question_add(
        version=rating.current_version, kind="rating", text_en="Speed", text_vi="Tốc độ", scale_min=1, scale_max=5
    )
    rating.refresh_from_db()
    question = rating.current_version.questions.get(kind="rating")
    for score in range(1, 6):
        response = make_response(rating, 3, at=now)
        Answer.objects.create(response=response, question=question, number=score)
    assert rollup.rollup_refresh() == 4
    by_kind = {(r.kind, r.survey_id): tuple(getattr(r, s) for s in STATS) for r in DailyRollup.objects.all()}
    assert sorted(by_kind.values()) == sorted(
        [
            (11, 2, 2, 7, 2, 55, 385),  # NPS 0–10: 9–10 promoters, 7–8 passives, 0–6 detractors
            (5, 2, 1, 2, 2, 15, 55),  # CSAT 1–5: 4–5 satisfied, 1–2 dissatisfied
            (7, 2, 3, 2, 2, 28, 140),  # CES 1–7: 1–2 low effort, 6–7 high effort
            (5, 0, 5, 0, 0, 15, 45),  # the rating survey's own CSAT question, all 3s
            (5, 0, 0, 0, 2, 15, 55),  # a 1–5 rating: its top two boxes are 4 and 5
        ]
    )
    assert from_raw() == stored()


@pytest.mark.parametrize("seed", range(4))
def test_after_any_sequence_of_submissions_and_runs_the_rollups_equal_a_recompute(seed, monkeypatch):
    rng = random.Random(seed)
    surveys = [make_survey(kind="nps"), make_survey(kind="csat")]
    customers = [None, *(CustomerFactory(segment=s) for s in ("retail", "retail", "corporate", ""))]
    start = timezone.now()
    for step in range(12):
        clock = start + timedelta(minutes=3 * step)
        with time_machine.travel(clock, tick=False):
            for _ in range(rng.randint(0, 15)):
                survey = rng.choice(surveys)
                high = 10 if survey.kind == "nps" else 5
                # Mostly today; some for days back, as late or imported answers are.
                at = clock - timedelta(days=rng.choice([0, 0, 0, 1, 6]), hours=rng.randint(0, 5))
                make_response(survey, rng.randint(0 if high == 10 else 1, high), customer=rng.choice(customers), at=at)
            action = rng.random()
            if action < 0.3:
                # A run killed half-way: its second statement fails; nothing of it may stay.
                before, watermark = stored(), RollupState.load().watermark
                calls = []
                real = rollup._upsert

                def dying(scope, now, calls=calls, real=real):
                    calls.append(1)
                    if len(calls) == 2:
                        raise KeyboardInterrupt("worker killed")
                    real(scope, now)

                monkeypatch.setattr(rollup, "DAYS_PER_STATEMENT", 1)
                monkeypatch.setattr(rollup, "_upsert", dying)
                try:
                    rollup.rollup_refresh()
                except KeyboardInterrupt:
                    assert stored() == before and RollupState.load().watermark == watermark
                monkeypatch.undo()
            elif action < 0.8:
                rollup.rollup_refresh()
                rollup.rollup_refresh()  # twice: nothing changes
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        rollup.rollup_refresh()
    assert stored() == from_raw()
    assert RollupState.load().watermark == Response.objects.latest("pk").pk


def test_a_later_segment_change_never_moves_history():
    survey = make_survey(kind="nps")
    customer = CustomerFactory(segment="retail")
    make_response(survey, 10, customer=customer)
    rollup.rollup_refresh()
    Customer.objects.filter(pk=customer.pk).update(segment="corporate")
    customer.refresh_from_db()
    make_response(survey, 0, customer=customer)
    rollup.rollup_refresh()
    # The first answer was given as a retail customer and stays retail; the second counts as corporate.
    expected = {("retail", 1, 1, 0), ("corporate", 1, 0, 1)}
    assert {(r.segment, r.count, r.promoters, r.detractors) for r in DailyRollup.objects.all()} == expected
    rollup.rollup_rebuild()
    assert {(r.segment, r.count, r.promoters, r.detractors) for r in DailyRollup.objects.all()} == expected


def test_a_submitted_answer_reaches_the_rollups_on_commit(django_capture_on_commit_callbacks):
    survey = make_survey(kind="nps")
    invitation, token = make_invitation(survey=survey, customer=CustomerFactory(segment="retail"))
    headline = survey.current_version.questions.order_by("position").first()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("respond", args=[token]), {f"q{headline.pk}": "9"})
    row = DailyRollup.objects.get()
    assert (row.segment, row.count, row.promoters, row.total) == ("retail", 1, 1, 9)


def test_the_rebuild_command_recomputes_everything():
    survey = make_survey(kind="csat")
    for score in (1, 4, 5):
        make_response(survey, score, at=timezone.now() - timedelta(days=3))
    DailyRollup.objects.create(survey=survey, question=survey.current_version.questions.first(), day="2020-01-01")
    out = StringIO()
    call_command("rollup_rebuild", stdout=out)
    assert "1 rows" in out.getvalue()
    assert stored() == from_raw()


def test_a_refresh_killed_half_way_leaves_nothing_and_the_next_one_completes(monkeypatch):
    survey = make_survey(kind="nps")
    make_response(survey, 10)
    rollup.rollup_refresh()
    before = stored()
    for days_back in (0, 1, 2):
        make_response(survey, 3, at=timezone.now() - timedelta(days=days_back))
    real, calls = rollup._upsert, []

    def dying(scope, now):
        calls.append(scope)
        if len(calls) == 2:
            raise KeyboardInterrupt("worker killed")
        real(scope, now)

    monkeypatch.setattr(rollup, "DAYS_PER_STATEMENT", 1)
    monkeypatch.setattr(rollup, "_upsert", dying)
    with pytest.raises(KeyboardInterrupt):
        rollup.rollup_refresh()
    assert stored() == before  # the first day's statement was rolled back with the rest
    monkeypatch.undo()
    assert rollup.rollup_refresh() == 3
    assert stored() == from_raw() and sum(r.count for r in DailyRollup.objects.all()) == 4


def test_the_funnel_follows_invitations_until_they_expire():
    survey = make_survey(kind="nps")
    now = timezone.now()
    invitations = [make_invitation(survey=survey)[0] for _ in range(5)]
    Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(channel="email")  # as a campaign makes
    Invitation.objects.filter(pk__in=[i.pk for i in invitations[:3]]).update(status="sent", sent_at=now)
    Invitation.objects.filter(pk=invitations[3].pk).update(status="failed", status_reason="550")
    Invitation.objects.filter(pk=invitations[4].pk).update(status="skipped", status_reason="throttled")
    rollup.rollup_refresh()
    row = InvitationRollup.objects.get()
    assert row.channel == "email"
    assert (row.invited, row.delivered, row.opened, row.answered, row.failed, row.skipped) == (5, 3, 0, 0, 1, 1)
    Invitation.objects.filter(pk=invitations[0].pk).update(status="answered", opened_at=now, answered_at=now)
    rollup.rollup_refresh()
    row.refresh_from_db()
    assert (row.delivered, row.opened, row.answered) == (3, 1, 1)
    # A year later the day is final: the refresh no longer reads it, the rebuild still does.
    with time_machine.travel(now + timedelta(days=365)):
        Invitation.objects.filter(pk=invitations[1].pk).update(opened_at=now)
        rollup.rollup_refresh()
        assert InvitationRollup.objects.get().opened == 1
        rollup.rollup_rebuild()
        assert InvitationRollup.objects.get().opened == 2


def test_each_channel_counts_what_it_delivered_so_answered_never_exceeds_it():
    survey = make_survey(kind="nps")
    now = timezone.now()
    by_hand = [make_invitation(survey=survey)[0] for _ in range(2)]  # links shown once, never emailed
    emailed = [make_invitation(survey=survey)[0] for _ in range(3)]
    Invitation.objects.filter(pk__in=[i.pk for i in emailed]).update(channel="email")
    Invitation.objects.filter(pk__in=[i.pk for i in by_hand]).update(answered_at=now, opened_at=now)
    Invitation.objects.filter(pk=emailed[0].pk).update(sent_at=now, opened_at=now, answered_at=now)
    # Old data: an email invitation answered though no email was ever recorded as sent.
    Invitation.objects.filter(pk=emailed[1].pk).update(answered_at=now)
    rollup.rollup_refresh()
    rows = {r.channel: (r.invited, r.delivered, r.opened, r.answered) for r in InvitationRollup.objects.all()}
    # Email: 2 invited (one still waiting), 1 sent, opened and answered. By hand: the two links and the email
    # invitation that was answered without an email, all delivered when made; three answered.
    assert rows == {"email": (2, 1, 1, 1), "link": (3, 3, 2, 3)}
    assert all(answered <= delivered for _i, delivered, _o, answered in rows.values())


def test_an_invitation_valid_longer_than_the_default_counts_its_late_answer_in_the_funnel():
    # A link may be valid for up to 365 days (the API's and the page's expires_in_days), longer than the default
    # 30 and than any campaign's. Answered on day 60, it is one answer of one link: the funnel must say so, as the
    # raw invitations and the rebuild do, instead of 0 answered of 1 delivered until someone rebuilds.
    from surveys.invitations import invitation_create

    survey = make_survey(kind="nps")
    made = timezone.now()
    invitation, token = invitation_create(survey=survey, customer=CustomerFactory(), expires_in_days=90)
    rollup.rollup_refresh(made)
    assert InvitationRollup.objects.get().answered == 0
    headline = survey.current_version.questions.order_by("position").first()
    with time_machine.travel(made + timedelta(days=60)):
        assert Client().post(reverse("respond", args=[token]), {f"q{headline.pk}": "9"}).status_code == 302
        rollup.rollup_refresh()
        row = InvitationRollup.objects.get()
        assert Invitation.objects.filter(answered_at__isnull=False).count() == 1
        assert (row.delivered, row.answered) == (1, 1)
