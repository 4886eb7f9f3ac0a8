"""The two SQL statements of the respondent path: find a link, and store a submission.

The respondent page is the hottest on the server when a campaign goes out (bench/ measures it). Measured here on
PostgreSQL, planning the link lookup's three-table join took more time than running it (0.19 ms against 0.08 ms
prepared), so on PostgreSQL both statements are prepared once per database connection and then executed by name.
Other databases (SQLite in the embedded mode) run the same lookup as plain SQL and store submissions with the ORM.
Set DB_PREPARED_STATEMENTS=0 behind a connection pooler in transaction mode, where prepared statements don't survive.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection

from config.sqlrows import run_prepared
from customers.models import Customer
from surveys.models import Answer, Invitation, Response, Survey

# Table names come from the models, values only from parameters: no input reaches the SQL text (reviewed for
# bandit B608, hence the nosec marks below).
LINK = (
    "SELECT i.id, i.customer_id, c.language, i.answered_at IS NOT NULL, i.expires_at <= $1, "  # nosec B608
    "s.id, s.status, s.current_version_id, s.updated_at, i.opened_at IS NOT NULL, c.segment, "
    "i.sent_at IS NOT NULL "
    f"FROM {Invitation._meta.db_table} i "
    f"JOIN {Customer._meta.db_table} c ON c.id = i.customer_id "
    f"JOIN {Survey._meta.db_table} s ON s.id = i.survey_id "
    "WHERE i.token_hash = $2"
)
LINK_TYPES = "timestamptz, text"

# One statement, hence one transaction: the response, its answers (as parallel arrays, so the statement has one
# shape whatever the number of answers) and the invitation's answered time. The unique index on
# response.invitation_id makes a second submission for the same link fail as a whole.
SUBMIT = (
    f"WITH r AS (INSERT INTO {Response._meta.db_table} "  # nosec B608
    "(survey_id, version_id, invitation_id, customer_id, language, submitted_at, segment, channel) "
    "VALUES ($1, $2, $3, $4, $5, $6, $11, $12) RETURNING id), "
    f"a AS (INSERT INTO {Answer._meta.db_table} (response_id, question_id, number, text, choices) "
    "SELECT r.id, v.q, v.n, v.t, v.c::jsonb FROM r, unnest($7::bigint[], $8::smallint[], $9::text[], $10::text[]) "
    "AS v(q, n, t, c)), "
    f"u AS (UPDATE {Invitation._meta.db_table} SET answered_at = $6, status = 'answered' WHERE id = $3) "
    "SELECT id FROM r"
)
SUBMIT_TYPES = "bigint, bigint, bigint, bigint, text, timestamptz, bigint[], smallint[], text[], text[], text, text"

# The same writes with the link's lookup and checks folded in, for a post whose questions are known (see
# responding.response_submit_quick): one round trip instead of two. It inserts nothing unless the link is
# unanswered, unexpired, its survey active and still at the version and stamp the form was built from.
QUICK = (
    # The segment and channel are read here, in the same statement, so the response keeps them as they were.
    "WITH l AS (SELECT i.id, i.customer_id, i.survey_id, c.segment, "  # nosec B608
    "CASE WHEN i.sent_at IS NULL THEN 'link' ELSE 'email' END AS channel "
    f"FROM {Invitation._meta.db_table} i JOIN {Survey._meta.db_table} s ON s.id = i.survey_id "
    f"JOIN {Customer._meta.db_table} c ON c.id = i.customer_id "
    "WHERE i.token_hash = $1 AND i.answered_at IS NULL AND i.expires_at > $5 AND s.status = 'active' "
    "AND s.current_version_id = $2 AND s.updated_at = $3), "
    f"r AS (INSERT INTO {Response._meta.db_table} "
    "(survey_id, version_id, invitation_id, customer_id, language, submitted_at, segment, channel) "
    "SELECT l.survey_id, $2, l.id, l.customer_id, $4, $5, l.segment, l.channel FROM l "
    "RETURNING id, survey_id, invitation_id, customer_id, segment, channel), "
    f"a AS (INSERT INTO {Answer._meta.db_table} (response_id, question_id, number, text, choices) "
    "SELECT r.id, v.q, v.n, v.t, v.c::jsonb FROM r, unnest($6::bigint[], $7::smallint[], $8::text[], $9::text[]) "
    "AS v(q, n, t, c)), "
    f"u AS (UPDATE {Invitation._meta.db_table} SET answered_at = $5, status = 'answered' "
    "WHERE id = (SELECT invitation_id FROM r)) "
    "SELECT id, survey_id, invitation_id, customer_id, segment, channel FROM r"
)
QUICK_TYPES = "text, bigint, timestamptz, text, timestamptz, bigint[], smallint[], text[], text[]"

# An invitation request (the API's busiest write, bench/api.py): the customer's row locked and the survey's row;
# then whether the customer was asked since $2 (the throttle: an invitation not skipped). Two statements, because
# a statement reads what was committed when it began: a check in the locking statement, after waiting for another
# request's lock, would not see the invitation that request has just committed, and both would pass the throttle.
_CUSTOMER = [f.column for f in Customer._meta.concrete_fields]
_SURVEY = [f.column for f in Survey._meta.concrete_fields]
_ASKED = ", ".join([*(f'c."{c}"' for c in _CUSTOMER), *(f's."{c}"' for c in _SURVEY)])
ASK = (
    f"SELECT {_ASKED} "  # nosec B608
    f"FROM {Customer._meta.db_table} c, {Survey._meta.db_table} s WHERE c.id = $1 AND s.id = $2 FOR UPDATE OF c"
)
ASK_TYPES = "bigint, bigint"
ASKED = (
    f"SELECT EXISTS (SELECT 1 FROM {Invitation._meta.db_table} i WHERE i.customer_id = $1 "  # nosec B608
    f"AND i.created_at >= $2 AND i.status <> '{Invitation.Status.SKIPPED}')"
)
ASKED_TYPES = "bigint, timestamptz"

_STATEMENTS = {
    "ln_link": (LINK, LINK_TYPES),
    "ln_submit": (SUBMIT, SUBMIT_TYPES),
    "ln_quick": (QUICK, QUICK_TYPES),
    "ln_ask": (ASK, ASK_TYPES),
    "ln_asked": (ASKED, ASKED_TYPES),
}
_DOLLAR = re.compile(r"\$(\d+)")


def _plain(sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """The same statement with %s placeholders, for databases or set-ups that don't prepare."""
    order = [int(n) - 1 for n in _DOLLAR.findall(sql)]
    return _DOLLAR.sub("%s", sql), [params[i] for i in order]


def _execute(name: str, params: list[Any]) -> tuple[Any, ...] | None:
    sql, types = _STATEMENTS[name]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS:
            run_prepared(cursor, name, f"PREPARE {name} ({types}) AS {sql}", params)
        else:
            cursor.execute(*_plain(sql, params))
        return cursor.fetchone()


def _columns(answers: list[tuple[int, int | None, str, str | None]]) -> list[list[Any]]:
    """(question, number, text, choices) rows as four parallel arrays, the shape the statements take."""
    return [[a[i] for a in answers] for i in range(4)]


def link_row(token_hash: str, now: datetime) -> tuple[Any, ...] | None:
    if connection.vendor != "postgresql":
        now = connection.ops.adapt_datetimefield_value(now)
    return _execute("ln_link", [now, token_hash])


def submit_row(
    *,
    survey_id: int,
    version_id: int,
    invitation_id: int,
    customer_id: int,
    language: str,
    now: datetime,
    answers: list[tuple[int, int | None, str, str | None]],
    segment: str,
    channel: str,
) -> int:
    """PostgreSQL only. `answers` holds (question id, number, text, choices as JSON) tuples."""
    row = _execute(
        "ln_submit",
        [survey_id, version_id, invitation_id, customer_id, language, now, *_columns(answers), segment, channel],
    )
    assert row is not None
    return int(row[0])


def quick_submit_row(
    *,
    token_hash: str,
    version_id: int,
    stamp: str,
    language: str,
    now: datetime,
    answers: list[tuple[int, int | None, str, str | None]],
) -> tuple[Any, ...] | None:
    """PostgreSQL only: (response id, survey id, invitation id, customer id, segment, channel), or None when the
    link's checks fail."""
    return _execute(
        "ln_quick",
        [token_hash, version_id, stamp, language, now, *_columns(answers)],
    )


def ask_rows(*, customer_id: int, survey_id: int, since: datetime) -> tuple[Customer, Survey, bool] | None:
    """PostgreSQL only: the customer (locked until the transaction ends), the survey, and whether the customer has
    an invitation made since `since` that was not skipped; None when either row is missing. The plain version is
    surveys.invitations._ask_rows_plain (the ORM), which tests compare with this one."""
    row = _execute("ln_ask", [customer_id, survey_id])
    if row is None:
        return None
    split = len(_CUSTOMER)
    customer = Customer.from_db("default", [f.attname for f in Customer._meta.concrete_fields], row[:split])
    survey = Survey.from_db("default", [f.attname for f in Survey._meta.concrete_fields], row[split:])
    asked = _execute("ln_asked", [customer_id, since])
    return customer, survey, bool(asked and asked[0])
