"""config/sqlrows.execute_prepared: a fixed statement is prepared once per connection on PostgreSQL and gives the
same rows as the plain statement; with DB_PREPARED_STATEMENTS off nothing is prepared."""

import pytest
from django.db import connection

from config import sqlrows
from customers.models import Customer

pytestmark = pytest.mark.django_db


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def _insert(name: str) -> int:
    customer = Customer(name=name, email=f"{name}@example.org")
    sqlrows.insert_one(customer)
    return customer.pk


def test_insert_one_stores_the_row_and_prepares_once(settings):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    settings.DB_PREPARED_STATEMENTS = True
    before = _prepared_names()
    first = _insert("an")
    after_first = _prepared_names() - before
    second = _insert("binh")
    assert len(after_first) == 1 and _prepared_names() - before == after_first
    assert list(Customer.objects.filter(pk__in=[first, second]).order_by("pk").values_list("name", "email")) == [
        ("an", "an@example.org"),
        ("binh", "binh@example.org"),
    ]


def test_no_prepared_statement_behind_a_pooler(settings):
    settings.DB_PREPARED_STATEMENTS = False
    before = _prepared_names() if connection.vendor == "postgresql" else set()
    pk = _insert("chi")
    assert Customer.objects.get(pk=pk).email == "chi@example.org"
    if connection.vendor == "postgresql":
        assert _prepared_names() == before


def test_the_cap_falls_back_to_plain_statements(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    settings.DB_PREPARED_STATEMENTS = True
    _insert("dung")  # whatever this connection prepared so far, then no room for more
    monkeypatch.setattr(sqlrows, "PREPARED_MAX", len(connection.ln_prepared))
    before = _prepared_names()
    with connection.cursor() as cursor:
        sqlrows.execute_prepared(cursor, "SELECT %s::int + %s::int", [2, 3])
        assert cursor.fetchone() == (5,)
    assert _prepared_names() == before
