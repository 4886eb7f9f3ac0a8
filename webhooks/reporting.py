"""Data out for BI tools: a read-only `reporting` schema of views in PostgreSQL, and login roles that see only it.

Metabase, Power BI or Superset connect as a role made by `manage.py reporting_role`; the role is a member of
READERS, which has USAGE on the schema and SELECT on its views, and nothing on the application's tables. A view
runs with its owner's rights (the application's role), so the reader reads the columns a view shows and no others.
By default the views carry no personal data: customers appear by id and external id only, and free texts (which can
quote a customer) are left out; `--with-personal-data` adds them and a customers view. The schema is rebuilt by
`manage.py reporting_schema` (after an upgrade that changes the tables it reads); grants to READERS are restored.
PostgreSQL only: on SQLite the commands say so and change nothing.
"""

from __future__ import annotations

from django.db import connection, transaction

from customers.models import Customer
from feedback.models import Category, ComplaintCase, CorrectiveAction
from reports.models import DailyRollup
from surveys.models import Answer, Campaign, Invitation, Question, Response, Survey, SurveyVersion

SCHEMA = "reporting"
READERS = "langnghe_reporting_readers"


class NotPostgreSQL(Exception):  # noqa: N818 - a verdict for the command to print
    pass


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def view_sql(*, personal: bool) -> dict[str, str]:
    """Each view's SELECT. Table names come from the models; nothing here comes from input."""
    case_personal = (
        ", c.customer_id, c.contact_name, c.contact_email, c.contact_phone, c.description, c.resolution"
        if personal
        else ""
    )
    views = {
        "surveys": f"SELECT s.id AS survey_id, s.kind, s.title_en, s.title_vi, s.status FROM {_t(Survey)} s",  # noqa: S608, E501  # nosec B608
        "questions": (
            "SELECT q.id AS question_id, v.survey_id, q.version_id, v.number AS version_number, q.position, q.kind, "  # noqa: S608  # nosec B608 - table names from the models
            f"q.text_en, q.text_vi, q.headline FROM {_t(Question)} q JOIN {_t(SurveyVersion)} v ON v.id = q.version_id"
        ),
        "responses": (
            "SELECT r.id AS response_id, r.survey_id, r.version_id, r.submitted_at, "  # noqa: S608  # nosec B608 - table names from the models
            "(r.submitted_at AT TIME ZONE 'UTC')::date AS submitted_on, r.language, r.segment, r.channel, "
            "i.campaign_id, r.customer_id, cu.external_id AS customer_external_id "
            f"FROM {_t(Response)} r LEFT JOIN {_t(Invitation)} i ON i.id = r.invitation_id "
            f"LEFT JOIN {_t(Customer)} cu ON cu.id = r.customer_id"
        ),
        "answers": (
            "SELECT a.response_id, a.question_id, q.kind AS question_kind, a.number AS score_or_choice, a.choices"  # noqa: S608
            + (", a.text" if personal else "")
            + f" FROM {_t(Answer)} a JOIN {_t(Question)} q ON q.id = a.question_id"
        ),
        "daily_rollups": (
            "SELECT d.survey_id, d.question_id, d.kind, d.segment, d.channel, d.day, d.count AS n, d.promoters, "  # noqa: S608  # nosec B608 - table names from the models
            "d.passives, d.detractors, d.top2, d.total, d.total_sq, d.computed_at "
            f"FROM {_t(DailyRollup)} d"
        ),
        "cases": (
            "SELECT c.id AS case_id, c.reference, c.channel, c.language, cat.name_en AS category_en, "  # noqa: S608
            "cat.name_vi AS category_vi, c.severity, c.impact, c.priority, c.status, c.received_at, "
            "c.acknowledge_due, c.respond_due, c.close_due, c.acknowledged_at, c.responded_at, c.closed_at, "
            "c.escalated_at, c.escalation_level, c.customer_accepted, c.response_id"
            + case_personal
            + f" FROM {_t(ComplaintCase)} c LEFT JOIN {_t(Category)} cat ON cat.id = c.category_id"
        ),
        "corrective_actions": (
            "SELECT a.id AS action_id, a.reference, a.title, a.status, cat.name_en AS category_en, "  # noqa: S608
            "cat.name_vi AS category_vi, a.survey_id, a.segment, a.created_at, a.contained_at, a.decided_at, "
            "a.action_needed, a.root_cause_method, a.analysed_at, a.effective_from, a.closed_at"
            + (", a.nonconformity, a.root_cause" if personal else "")
            + f" FROM {_t(CorrectiveAction)} a LEFT JOIN {_t(Category)} cat ON cat.id = a.category_id"
        ),
        "campaigns": (
            "SELECT m.id AS campaign_id, m.survey_id, m.name AS campaign_name, m.status, m.send_at, "  # noqa: S608  # nosec B608 - table names from the models
            f"m.started_at, m.finished_at FROM {_t(Campaign)} m"
        ),
    }
    if personal:
        views["customers"] = (
            "SELECT cu.id AS customer_id, cu.external_id, cu.name, cu.email, cu.phone, cu.segment, cu.language, "  # noqa: S608  # nosec B608 - table names from the models
            f"cu.customer_type, cu.erased_at FROM {_t(Customer)} cu"
        )
    return views


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise NotPostgreSQL("The reporting schema is for PostgreSQL only; this database is " + connection.vendor)


def _ensure_readers(cursor) -> None:  # type: ignore[no-untyped-def]
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READERS])
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE ROLE {READERS} NOLOGIN")  # nosec B608 - a constant name


def reporting_schema_create(*, personal: bool = False) -> list[str]:
    """Drop and rebuild the schema's views; returns their names. Grants go to READERS again."""
    _require_postgresql()
    views = view_sql(personal=personal)
    with transaction.atomic(), connection.cursor() as cursor:
        _ensure_readers(cursor)
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        for name, select in views.items():
            cursor.execute(f"CREATE VIEW {SCHEMA}.{name} AS {select}")  # nosec B608 - SQL from the models only
        cursor.execute(f"COMMENT ON SCHEMA {SCHEMA} IS %s", [
            "Lắng Nghe reporting views (read-only). " + ("With personal data." if personal else "No personal data.")
        ])  # fmt: skip
        cursor.execute(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC")
        cursor.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {READERS}")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {READERS}")
    return list(views)


def reporting_schema_exists() -> bool:
    _require_postgresql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA])
        return cursor.fetchone() is not None


def reporting_role_create(*, name: str, password: str) -> str:
    """A login role (made, or its password changed) that reads the reporting schema and nothing else."""
    from psycopg2 import sql

    _require_postgresql()
    if not reporting_schema_exists():
        reporting_schema_create()
    role = sql.Identifier(name)
    with transaction.atomic():
        connection.ensure_connection()
        # The driver's own cursor, not Django's: Django logs the SQL of its cursors at DEBUG, and this statement
        # carries the password (as a quoted literal: ALTER/CREATE ROLE takes no bound parameters).
        with connection.connection.cursor() as cursor:
            _ensure_readers(cursor)
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            exists = cursor.fetchone() is not None
            verb = sql.SQL("ALTER" if exists else "CREATE")
            cursor.execute(
                sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD {}").format(
                    verb, role, sql.Literal(password)
                )
            )
            cursor.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(READERS), role))
            # Defence in depth: every session of the role is read-only, bounded in time, and starts in the schema.
            cursor.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))
            cursor.execute(sql.SQL("ALTER ROLE {} SET statement_timeout = '60s'").format(role))
            cursor.execute(sql.SQL("ALTER ROLE {} SET search_path = {}").format(role, sql.Identifier(SCHEMA)))
    return "changed" if exists else "created"
