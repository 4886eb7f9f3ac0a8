"""The reporting schema for BI tools: a role made by `reporting_role` reads the views and nothing else."""

import io
import secrets
from contextlib import contextmanager

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from surveys.models import Answer
from tests.factories import CustomerFactory, make_response, make_survey
from tests.helpers import require


def test_on_sqlite_the_commands_say_they_are_for_postgresql(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the same check on both of CI's databases
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("reporting_schema")
    monkeypatch.setenv("REPORTING_ROLE_PASSWORD", "a-long-password-1")
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("reporting_role", "--name", "metabase")


def test_a_short_password_or_a_bad_name_is_refused(db, monkeypatch):
    monkeypatch.setenv("REPORTING_ROLE_PASSWORD", "short")
    with pytest.raises(CommandError, match="12 characters"):
        call_command("reporting_role", "--name", "metabase")
    with pytest.raises(CommandError, match="role name"):
        call_command("reporting_role", "--name", 'x"; DROP TABLE y; --')


@contextmanager
def _connect(role: str, password: str):
    """A BI tool's own connection (closed after use: psycopg2's `with` only ends the transaction)."""
    settings = connection.settings_dict
    bi = psycopg2.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        password=password,
        connect_timeout=5,
    )
    try:
        yield bi
    finally:
        bi.close()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_reporting_role_selects_views_but_not_tables_and_writes_nothing(monkeypatch, capsys):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    survey = make_survey(kind="nps")
    customer = CustomerFactory(name="Trần Thị Bích", email="bich@example.com", external_id="CRM-9")
    response = make_response(survey, 3, customer=customer)
    comment = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=comment, text="Giao hàng chậm, gọi 0901234567")
    role, password = f"bi_test_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    monkeypatch.setenv("REPORTING_ROLE_PASSWORD", password)
    out = io.StringIO()
    try:
        call_command("reporting_schema", stdout=out)
        call_command("reporting_role", "--name", role, stdout=out)
        assert password not in out.getvalue() + "".join(capsys.readouterr())
        with _connect(role, password) as bi, bi.cursor() as cursor:
            cursor.execute("SELECT response_id, customer_external_id FROM reporting.responses")
            assert cursor.fetchall() == [(response.pk, "CRM-9")]
            cursor.execute("SELECT question_kind, score_or_choice FROM answers ORDER BY 1")  # search_path: reporting
            assert ("nps", 3) in cursor.fetchall()
            for view in ("surveys", "questions", "daily_rollups", "cases", "corrective_actions", "campaigns"):
                cursor.execute(f"SELECT * FROM reporting.{view} LIMIT 1")  # noqa: S608  # nosec B608 - test constants
            # No personal data by default: no name, address or free text in any view.
            cursor.execute(
                "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_schema = 'reporting'"
            )
            columns = cursor.fetchone()[0].split(",")
            assert not {"name", "email", "phone", "text", "contact_name", "description"} & set(columns)
        for statement in (
            f"SELECT * FROM public.{survey._meta.db_table}",  # noqa: S608  # nosec B608
            "SELECT * FROM public.surveys_response",
            "SELECT * FROM public.auth_user",
            "SELECT * FROM public.audit_auditentry",
            "SELECT * FROM public.webhooks_webhookendpoint",  # the webhook secrets
            "INSERT INTO reporting.surveys (survey_id) VALUES (1)",
            "DELETE FROM reporting.responses",
            "DELETE FROM reporting.surveys",
            "UPDATE reporting.daily_rollups SET n = 0",
            # Not only the read-only default: without it, the role still has no right to write.
            "SET transaction_read_only = off; INSERT INTO reporting.surveys (survey_id) VALUES (1)",
            "SET transaction_read_only = off; CREATE TABLE public.y (id int)",
            "CREATE TABLE reporting.x (id int)",
            "CREATE TABLE public.x (id int)",
        ):
            with _connect(role, password) as bi, bi.cursor() as cursor:
                with pytest.raises(psycopg2.Error) as refused:
                    cursor.execute(statement)
                # Permission denied, read-only transaction, or a view that cannot be written at all.
                assert refused.value.pgcode in ("42501", "25006", "55000"), statement
        # Asked for, personal data appears (and a customers view).
        call_command("reporting_schema", "--with-personal-data", stdout=out)
        with _connect(role, password) as bi, bi.cursor() as cursor:
            cursor.execute("SELECT name, email FROM reporting.customers")
            assert cursor.fetchall() == [("Trần Thị Bích", "bich@example.com")]
            cursor.execute("SELECT text FROM reporting.answers WHERE text <> ''")
            assert cursor.fetchall() == [("Giao hàng chậm, gọi 0901234567",)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
