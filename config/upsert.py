"""`INSERT … SELECT … ON CONFLICT DO UPDATE` of an aggregate queryset into a rollup table (reports and insight)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connection
from django.db.models import Model, QuerySet


def upsert_select(
    rows: QuerySet,
    model: type[Model],
    conflict: tuple[str, ...],
    now: datetime,
    column_of: Mapping[str, str],
    *,
    add: bool = False,
) -> None:
    """Write the aggregate `rows` (each column aliased r_<column>; `column_of` names the foreign keys' columns,
    e.g. survey → survey_id) into `model`, stamped `computed_at = now`, updating the rows whose `conflict`
    columns exist already: replacing their values, or with `add` (counts and sums of rows new since) adding to
    them."""
    alias_of = {v: k for k, v in column_of.items()}
    select, params = rows.query.sql_with_params()
    columns = [alias.removeprefix("r_") for alias in rows.query.values_select + tuple(rows.query.annotation_select)]
    columns = [column_of.get(c, c) for c in columns]
    aliases = ", ".join(f"r_{alias_of.get(c, c)}" for c in columns)
    table = model._meta.db_table
    updates = ", ".join(
        f"{c} = {table}.{c} + excluded.{c}" if add else f"{c} = excluded.{c}" for c in columns if c not in conflict
    )
    updates += ", computed_at = excluded.computed_at"
    # Constant names and the ORM's own SQL are formatted in; every value goes as a parameter. "WHERE 1 = 1" lets
    # SQLite tell the SELECT's end from the upsert clause (its documented parsing ambiguity).
    sql = (
        # Reviewed (bandit B608): model table and column names only; every value is a parameter.
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}, computed_at) "  # noqa: S608  # nosec B608
        f"SELECT {aliases}, %s FROM ({select}) AS fresh WHERE 1 = 1 "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        # The computed_at placeholder comes before the subquery's in the statement.
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), *params])
