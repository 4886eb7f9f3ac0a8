"""New rows of several models in one INSERT statement: on PostgreSQL, data-modifying CTEs; elsewhere, one save each.

The API's invitation request ends with two rows beside the invitation (its idempotency record and the call's log
row). As two ORM saves they cost two round trips and the ORM's compile of two statements on every request
(bench/api.py); as one statement (or as part of the audit trail's own statement, audit/trail.py), one. The rows'
ids are not read back: callers need none. No model is imported here; the plain path (save) is what the tests
compare this one with.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.backends.signals import connection_created
from django.dispatch import receiver

# Field classes whose value, when it is of the Python type given here (or None), is what the database adapter takes
# as it is (their get_db_prep_save converts nothing then): such parameters skip the field's conversion.
_PLAIN_FIELDS = (
    (models.IntegerField, int),
    (models.CharField, str),
    (models.TextField, str),
    (models.BooleanField, bool),
)


@cache
def _insert_sql(model: type[models.Model], with_pk: bool) -> str:
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    # Reviewed (bandit B608): the model's table and column names, quoted; every value is a parameter.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608  # nosec B608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


@cache
def _insert_fields(model: type[models.Model], with_pk: bool) -> tuple[tuple[models.Field, str, tuple, bool], ...]:
    """(field, attname, plain types, computed) per column of the INSERT: `computed` when the field's pre_save makes
    the value (auto_now and the like); the plain types are those whose values need no conversion (see above)."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.primary_key and not with_pk:
            continue  # the sequence gives it
        kind = field.target_field if isinstance(field, models.ForeignKey) else field
        plain = next((t for cls, t in _PLAIN_FIELDS if isinstance(kind, cls)), None)
        computed = type(field).pre_save is not models.Field.pre_save
        fields.append((field, field.attname, (type(None),) if plain is None else (plain, type(None)), computed))
    return tuple(fields)


def insert_parts(instances: list[models.Model]) -> tuple[list[str], list[Any]]:
    """One INSERT ... VALUES per instance (for a WITH clause, PostgreSQL) and their parameters, in order."""
    parts: list[str] = []
    params: list[Any] = []
    db = connection
    for instance in instances:
        model = type(instance)
        with_pk = getattr(instance, model._meta.pk.attname) is not None
        parts.append(_insert_sql(model, with_pk))
        for field, attname, plain, computed in _insert_fields(model, with_pk):
            value = field.pre_save(instance, add=True) if computed else getattr(instance, attname)
            params.append(value if type(value) in plain else field.get_db_prep_save(value, db))
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
        execute_prepared(cursor, f"{sql} RETURNING {connection.ops.quote_name(instance._meta.pk.column)}", params)
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


# Statements prepared on one connection by execute_prepared, at most (the named ones of surveys/fastpath.py count
# too): each costs the server some memory for the connection's life, and those worth preparing are a few shapes.
PREPARED_MAX = 64
_PLACEHOLDER = re.compile(r"%s")


@receiver(connection_created)
def _forget_prepared(sender: Any, connection: Any, **kwargs: Any) -> None:
    # Prepared statements live and die with the server session: a new connection starts with none.
    connection.ln_prepared = set()


def run_prepared(cursor: Any, name: str, prepare: str, params: list[Any]) -> None:
    """EXECUTE the statement `name` with `params`, first running `prepare` (its PREPARE) if this connection has not
    prepared it yet. PostgreSQL only; callers check DB_PREPARED_STATEMENTS."""
    prepared: set[str] | None = getattr(connection, "ln_prepared", None)
    if prepared is None:
        prepared = connection.ln_prepared = set()
    if name not in prepared:
        cursor.execute(prepare)
        prepared.add(name)
    if params:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
    else:
        cursor.execute(f"EXECUTE {name}")


def execute_prepared(cursor: Any, sql: str, params: list[Any]) -> None:
    """Run `sql` (%s placeholders, no literal %) as a statement prepared once per connection on PostgreSQL, so that
    the server parses and plans it once rather than on every call: a fixed statement on a busy path (an
    invitation's INSERT, the audit trail's append). Measured on the API's invitation request: about 0.15 ms of the
    server's CPU per request (bench/README.md). Elsewhere, with DB_PREPARED_STATEMENTS off (a pooler in transaction
    mode) or once PREPARED_MAX statements are prepared, a plain execute."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    name = "ln_q" + hashlib.sha256(sql.encode()).hexdigest()[:20]
    if (
        name not in getattr(connection, "ln_prepared", ())
        and len(getattr(connection, "ln_prepared", ())) >= PREPARED_MAX
    ):
        cursor.execute(sql, params)
        return
    numbers = iter(range(1, len(params) + 1))
    # The statement's text is the caller's (table and column names from the models), never input (B608).
    prepare = f"PREPARE {name} AS " + _PLACEHOLDER.sub(lambda _m: f"${next(numbers)}", sql)  # nosec B608
    run_prepared(cursor, name, prepare, params)
