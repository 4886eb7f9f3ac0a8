"""New rows of several models in one INSERT statement: on PostgreSQL, data-modifying CTEs; elsewhere, one save each.

The API's invitation request ends with two rows beside the invitation (its idempotency record and the call's log
row). As two ORM saves they cost two round trips and the ORM's compile of two statements on every request
(bench/api.py); as one statement (or as part of the audit trail's own statement, audit/trail.py), one. The rows'
ids are not read back: callers need none. No model is imported here; the plain path (save) is what the tests
compare this one with.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection, models


@cache
def _insert_sql(model: type[models.Model], with_pk: bool) -> str:
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    # Reviewed (bandit B608): the model's table and column names, quoted; every value is a parameter.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608  # nosec B608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


def insert_parts(instances: list[models.Model]) -> tuple[list[str], list[Any]]:
    """One INSERT ... VALUES per instance (for a WITH clause, PostgreSQL) and their parameters, in order."""
    parts, params = [], []
    for instance in instances:
        with_pk = getattr(instance, instance._meta.pk.attname) is not None
        parts.append(_insert_sql(type(instance), with_pk))
        for field in instance._meta.concrete_fields:
            if field.primary_key and not with_pk:
                continue  # the sequence gives it
            params.append(field.get_db_prep_save(field.pre_save(instance, add=True), connection))
    return parts, params


def inserted(instances: list[models.Model]) -> None:
    """Mark instances written by insert_parts' statements as saved."""
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def insert_one(instance: models.Model) -> None:
    """INSERT one unsaved instance and set its primary key: on PostgreSQL one plain statement built once per model
    (the ORM compiles its INSERT anew for every row), elsewhere save(). Runs no save() logic and sends no signals
    on PostgreSQL: only for models that have neither (a test per caller holds it to save())."""
    if connection.vendor != "postgresql":
        instance.save(force_insert=True)
        return
    (sql,), params = insert_parts([instance])
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {connection.ops.quote_name(instance._meta.pk.column)}", params)
        (pk,) = cursor.fetchone()
    setattr(instance, instance._meta.pk.attname, pk)
    inserted([instance])


def insert_together(instances: list[models.Model]) -> None:
    """INSERT every instance (unsaved, with its values set) in one statement on PostgreSQL; save() each otherwise.

    Runs no model's save() or signals on PostgreSQL: only for plain log and record rows that have neither."""
    if connection.vendor != "postgresql" or len(instances) < 2:
        for instance in instances:
            instance.save(force_insert=True)
        return
    parts, params = insert_parts(instances)
    *first, last = parts
    ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(first))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} {last}", params)
    inserted(instances)
