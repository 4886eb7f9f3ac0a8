"""New rows of several models in one INSERT statement: on PostgreSQL, data-modifying CTEs; elsewhere, one save each.

The API's invitation request ends with two rows beside the invitation (its idempotency record and the call's log
row). As two ORM saves they cost two round trips and the ORM's compile of two statements on every request
(bench/api.py); as one statement, one. The rows' ids are not read back: callers need none. No model is imported
here; the plain path (save) is what the tests compare this one with.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models


def _columns(instance: models.Model) -> tuple[str, list[str], list[Any]]:
    meta = instance._meta
    names, values = [], []
    for field in meta.concrete_fields:
        if field.primary_key and getattr(instance, field.attname) is None:
            continue  # the sequence gives it
        value = field.pre_save(instance, add=True)
        names.append(connection.ops.quote_name(field.column))
        values.append(field.get_db_prep_save(value, connection))
    return connection.ops.quote_name(meta.db_table), names, values


def insert_together(instances: list[models.Model]) -> None:
    """INSERT every instance (unsaved, with its values set) in one statement on PostgreSQL; save() each otherwise.

    Runs no model's save() or signals on PostgreSQL: only for plain log and record rows that have neither."""
    if connection.vendor != "postgresql" or len(instances) < 2:
        for instance in instances:
            instance.save(force_insert=True)
        return
    parts, params = [], []
    for instance in instances:
        table, names, values = _columns(instance)
        marks = ", ".join(["%s"] * len(values))
        # Reviewed (bandit B608): the models' table and column names, quoted; every value is a parameter.
        parts.append(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})")  # noqa: S608  # nosec B608
        params.extend(values)
    *first, last = parts
    ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(first))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} {last}", params)
    for instance in instances:
        instance._state.adding = False
