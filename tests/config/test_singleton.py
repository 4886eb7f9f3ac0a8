"""A sweep that finds its watermark row held by another sweep steps aside at once (it used to wait for the lock,
keeping a worker child idle), asks for a run after it, and the work is done by the next run."""

import threading
import time

import psycopg2
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from feedback import loop
from feedback.models import ComplaintCase, ComplaintSettings
from reports import rollup
from reports.models import DailyRollup, RollupState
from tests.factories import CustomerFactory, make_invitation, make_survey
from tests.helpers import require, set_eager

pytestmark = pytest.mark.django_db(transaction=True)


def hold_row(table: str, held: threading.Event, release: threading.Event) -> None:
    """Another sweep, in another connection, holding row 1 of `table` in its transaction."""
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    with other, other.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = 1 FOR UPDATE")  # noqa: S608 - a table name of ours
        held.set()
        release.wait(30)
    other.close()


@pytest.mark.parametrize("job", ["loop", "rollups"])
def test_a_sweep_steps_aside_while_another_holds_its_row(job, monkeypatch):
    require(connection.vendor == "postgresql", "row locks need PostgreSQL (set DATABASE_URL)")
    survey = make_survey(kind="nps")
    question = survey.current_version.questions.order_by("position").first()
    loop.watermark_to_now()
    rollup.rollup_refresh()
    asked = []  # the runs asked for, instead of running them (the answers' own requests included)
    monkeypatch.setattr(loop, "request_sweep", lambda: asked.append("loop"))
    requests = type("Requests", (), {"request": lambda self: asked.append("rollups")})()
    monkeypatch.setattr(rollup, "_refresh_requests", lambda: requests)
    for _ in range(3):
        _invitation, token = make_invitation(survey=survey, customer=CustomerFactory())
        Client().post(reverse("respond", args=[token]), {f"q{question.pk}": "2"})
    assert not ComplaintCase.objects.exists() and not DailyRollup.objects.filter(survey=survey).exists()
    asked.clear()
    table = {"loop": ComplaintSettings._meta.db_table, "rollups": RollupState._meta.db_table}[job]
    run = {"loop": loop.sweep, "rollups": rollup.rollup_refresh}[job]
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_row, args=(table, held, release))
    holder.start()
    assert held.wait(10)
    set_eager(False)
    try:
        started = time.monotonic()
        assert run() == 0
        assert time.monotonic() - started < 2  # did not wait for the other's lock (the worker's timeout is 30 s)
        assert asked == [job]  # and asked for a run after the other's
    finally:
        set_eager(True)
        release.set()
        holder.join(10)
    assert run() > 0  # the next run does the work
    if job == "loop":
        assert ComplaintCase.objects.filter(response__survey=survey).count() == 3
    else:
        assert DailyRollup.objects.filter(survey=survey, question=question).exists()
