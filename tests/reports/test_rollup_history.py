"""History never moves: incremental refresh and rebuild agree after any sequence of submits, edits, erasures and
re-imports (a property test, run on SQLite by `make test` and on PostgreSQL in CI, where submits take the
one-statement fast path)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import importing
from customers.models import Customer
from customers.services import customer_erase
from reports import rollup
from reports.models import DailyRollup
from surveys import public
from surveys.responding import link_for_token, parse_answers, response_submit
from tests.factories import CustomerFactory, make_invitation, make_survey, quality_manager

pytestmark = pytest.mark.django_db
SEGMENTS = ["", "retail", "corporate", "online"]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.integers(0, 2), st.integers(0, 10), st.booleans()),
        st.tuples(st.just("public"), st.integers(0, 2), st.integers(0, 10), st.booleans()),
        st.tuples(st.just("edit"), st.integers(0, 2), st.sampled_from(SEGMENTS), st.booleans()),
        st.tuples(st.just("import"), st.integers(0, 2), st.sampled_from(SEGMENTS), st.booleans()),
        st.tuples(st.just("erase"), st.integers(0, 2), st.just(""), st.booleans()),
        st.tuples(st.just("refresh"), st.just(0), st.just(""), st.booleans()),
    ),
    max_size=18,
)


@pytest.fixture
def world(db):
    survey = make_survey(kind="nps")
    questions = list(survey.current_version.questions.order_by("position"))
    customers = [CustomerFactory(segment="retail", email=f"c{i}@example.org", external_id=f"EXT-{i}") for i in range(3)]
    return survey, questions, customers, quality_manager(username="eraser")


def rows() -> Counter:
    return Counter(
        {(r.question_id, r.segment, r.channel, r.day): r.count for r in DailyRollup.objects.all() if r.count}
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_refresh_and_rebuild_agree_and_keep_each_answers_segment(world, ops):
    survey, questions, customers, actor = world
    headline = questions[0]
    start = timezone.now()
    cache.clear()  # each example starts with no confirmation mails counted (three customers' mailboxes, a day's limit)
    with transaction.atomic():
        expected: Counter = Counter()
        for step, (op, who, value, flag) in enumerate(ops):
            customer = Customer.objects.get(pk=customers[who].pk)
            with time_machine.travel(start + timedelta(minutes=step), tick=False):
                day = timezone.localdate()
                if op == "submit":
                    _invitation, token = make_invitation(survey=survey, customer=customer)
                    link = link_for_token(token)
                    answers = parse_answers(questions, {f"q{headline.pk}": str(value)})
                    response_submit(link=link, survey=survey, questions=questions, answers=answers, language="vi")
                    expected[(headline.pk, customer.segment, "link", day)] += 1
                elif op == "public":
                    answers = parse_answers(questions, {f"q{headline.pk}": str(value)})
                    email = customer.email if flag and customer.email else ""
                    try:
                        public.response_submit_public(
                            survey=survey, questions=questions, answers=answers, language="vi", email=email
                        )
                    except public.ClaimMailRefused:
                        continue  # that mailbox had its confirmation mails for the day: nothing was stored
                    # An address typed on a public page is only a claim: the answer stays anonymous, without a
                    # segment, even when the address is a customer's (and after its owner confirms it).
                    segment = ""
                    expected[(headline.pk, segment, "public", day)] += 1
                elif op == "edit":
                    customer.segment = value
                    customer.save(update_fields=["segment"])
                elif op == "import" and customer.erased_at is None:
                    data = f"name,email,segment,external_id\n{customer.name},{customer.email},{value},EXT-{who}\n"
                    parsed = importing.parse(data.encode())
                    importing.import_rows(parsed)
                elif op == "erase" and customer.erased_at is None:
                    customer_erase(customer=customer, actor=actor, reason="email of the customer")
                elif op == "refresh":
                    rollup.rollup_refresh()
        with time_machine.travel(start + timedelta(hours=1), tick=False):
            rollup.rollup_refresh()
            refreshed = rows()
            rollup.rollup_rebuild()
            rebuilt = rows()
        assert refreshed == rebuilt == expected
        transaction.set_rollback(True)
