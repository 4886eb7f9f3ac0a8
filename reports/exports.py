"""Exports of responses (CSV for Excel, XLSX) for a survey, date range and segment, written by a task to a file.

One row per response, one column per question of every version. Cells a spreadsheet would run as a formula (text
starting with =, +, -, @, a tab or a carriage return) get a leading apostrophe (OWASP's advice on CSV injection).

On PostgreSQL the CSV is written by `COPY (SELECT …) TO STDOUT`, with the pivot, the local time and the escaping
done in SQL: a Python loop over a million rows is 8× slower than COPY (measured; see bench/reports.py). SQLite
and XLSX use a streaming cursor and write row by row. Either way memory stays flat: nothing holds the rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from config.validators import one_line
from reports.rollup import local_range
from surveys.models import Question, Survey

# The columns before the questions' (their order is the SELECT's in ExportQuery.sql).
FIXED_COLUMNS = (_("Response"), _("Submitted"), _("Version"), _("Language"), _("Segment"), _("Customer"),
                 _("Email"))  # fmt: skip
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 5000


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(DANGEROUS_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class ExportQuery:
    survey: Survey
    start: date
    end: date
    segment: str = ""
    language: str = "vi"  # of the header and of choice labels

    def questions(self) -> list[Question]:
        return list(
            Question.objects.filter(version__survey=self.survey)
            .select_related("version")
            .order_by("version__number", "position")
        )

    def header(self) -> list[str]:
        language = self.language
        with override(language):
            fixed = [str(label) for label in FIXED_COLUMNS]
        return fixed + [f"v{q.version.number} Q{q.position}: {q.text(language)}" for q in self.questions()]

    def numeric_columns(self) -> set[int]:
        """The response id, the version and every scale question's column; the rest is text, even "123"."""
        first = len(FIXED_COLUMNS)
        scales = {first + i for i, q in enumerate(self.questions()) if q.kind not in ("text", "single", "multi")}
        return {0, 2} | scales

    def sql(self, *, vendor: str) -> tuple[str, list[Any]]:
        """One SELECT: a row per response, a column per question (each answer unique per response/question)."""
        first, after = local_range(self.start, self.end)
        params: list[Any] = []
        columns = []
        for question in self.questions():
            value, value_params = _answer_value(question, vendor, self.language)
            columns.append(f"MAX(CASE WHEN a.question_id = %s THEN {_escaped(value, vendor)} END)")
            params += [question.pk, *value_params, *value_params, *value_params]
        submitted = (
            "to_char(r.submitted_at AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')"
            if vendor == "postgresql"
            else "r.submitted_at"
        )
        select = ", ".join(
            [
                "r.id",
                submitted,
                "v.number",
                "r.language",
                # The segment the answer was given in, as the dashboard counts it (not the customer's today).
                _escaped("r.segment", vendor),
                _escaped("COALESCE(c.name, '')", vendor),
                _escaped("COALESCE(c.email, '')", vendor),
                *columns,
            ]
        )
        head_params: list[Any] = [settings.TIME_ZONE] if vendor == "postgresql" else []
        where = ["r.survey_id = %s", "r.submitted_at >= %s", "r.submitted_at < %s"]
        where_params: list[Any] = [self.survey.pk, _db_datetime(first), _db_datetime(after)]
        if self.segment:
            where.append("r.segment = %s")
            where_params.append(self.segment)
        sql = (
            # Reviewed (bandit B608): the column expressions are built here from question ids; values are parameters.
            f"SELECT {select} FROM surveys_response r "  # noqa: S608  # nosec B608
            "JOIN surveys_surveyversion v ON v.id = r.version_id "
            "LEFT JOIN surveys_customer c ON c.id = r.customer_id "
            "LEFT JOIN surveys_answer a ON a.response_id = r.id "
            f"WHERE {' AND '.join(where)} "
            "GROUP BY r.id, r.submitted_at, v.number, r.language, r.segment, c.name, c.email "
            "ORDER BY r.submitted_at, r.id"
        )
        return sql, head_params + params + where_params


def _answer_value(question: Question, vendor: str, language: str) -> tuple[str, list[Any]]:
    """The SQL giving one answer as text: the score, the written text, or the chosen options' labels."""
    if question.kind == "text":
        return "a.text", []
    labels = question.choice_labels(language)
    if question.kind == "single":
        cases = " ".join("WHEN %s THEN %s" for _label in labels)
        return f"(CASE a.number {cases} END)", [x for i, label in enumerate(labels) for x in (i, label)]
    if question.kind == "multi":
        if vendor == "postgresql":
            return (
                "(SELECT string_agg((CAST(%s AS text[]))[CAST(x.value AS int) + 1], '; ' ORDER BY x.ord) "
                "FROM jsonb_array_elements_text(CAST(a.choices AS jsonb)) WITH ORDINALITY AS x(value, ord))",
                [labels],
            )
        return "(SELECT group_concat(json_extract(%s, '$[' || x.value || ']'), '; ') FROM json_each(a.choices) AS x)", [
            json.dumps(labels, ensure_ascii=False)
        ]
    return "CAST(a.number AS TEXT)", []


def _db_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _escaped(expression: str, vendor: str) -> str:
    """The SQL form of neutralise(): prefix an apostrophe when the text starts with a dangerous character."""
    tab, cr = ("chr(9)", "chr(13)") if vendor == "postgresql" else ("char(9)", "char(13)")
    starts = f"('=', '+', '-', '@', {tab}, {cr})"
    return f"CASE WHEN substr({expression}, 1, 1) IN {starts} THEN '''' || {expression} ELSE {expression} END"


def write_csv(query: ExportQuery, out: IO[bytes], *, progress: Callable[[int], None]) -> int:
    """Write the CSV (UTF-8 with a BOM, so that Excel reads Vietnamese right); returns the number of rows."""
    header = io.StringIO()
    csv.writer(header).writerow(query.header())
    out.write(b"\xef\xbb\xbf" + header.getvalue().encode())
    if connection.vendor == "postgresql":
        sql, params = query.sql(vendor="postgresql")
        counter = _LineCounter(out)
        with connection.cursor() as cursor:
            copy = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params).decode()  # noqa: S608
            cursor.copy_expert(copy, counter)
        progress(counter.lines)
        return counter.lines
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    rows = 0
    for row in _rows(query):
        writer.writerow(row)
        rows += 1
        if rows % PROGRESS_EVERY == 0:
            progress(rows)
    text.detach()
    progress(rows)
    return rows


class _LineCounter:
    """A file wrapper for COPY: passes the bytes through and counts the records. A line break inside a quoted
    cell (a comment on two lines) is not a record's end: only breaks outside quotes count; a doubled quote inside
    a cell toggles twice and changes nothing."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.lines, self.quoted = out, 0, False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        for index, part in enumerate(chunk.split(b'"')):
            if index:
                self.quoted = not self.quoted
            if not self.quoted:
                self.lines += part.count(b"\n")
        return self.out.write(chunk)


def _rows(query: ExportQuery) -> Iterator[list[Any]]:
    """The export's rows from a streaming cursor (SQLite, and XLSX on any database)."""
    sql, params = query.sql(vendor=connection.vendor)
    tz = timezone.get_current_timezone()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(2000):
            for row in batch:
                values = list(row)
                submitted = values[1]
                if connection.vendor != "postgresql" and isinstance(submitted, str | datetime):
                    # SQLite hands back UTC, as text or (with its type converters) a naive datetime.
                    parsed = datetime.fromisoformat(submitted) if isinstance(submitted, str) else submitted
                    if timezone.is_naive(parsed):
                        parsed = parsed.replace(tzinfo=UTC)
                    values[1] = timezone.localtime(parsed, tz).strftime("%Y-%m-%d %H:%M:%S")
                yield values


def sheet_name(title: str) -> str:
    """A title Excel accepts as a sheet name: at most 31 characters, none of []:*?/\\ or control characters, not
    starting or ending with an apostrophe (XlsxWriter refuses those), and never empty."""
    cleaned = one_line(title.translate(str.maketrans("[]:*?/\\", "       ")))[:31].strip(" '")
    return cleaned or "Responses"


def write_xlsx(query: ExportQuery, path: Path, *, progress: Callable[[int], None]) -> int:
    """Write an XLSX workbook in constant memory (XlsxWriter flushes each row to a temporary file)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "strings_to_numbers": False})  # fmt: skip
    sheet = workbook.add_worksheet(sheet_name(query.survey.title(query.language)))
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, query.header(), bold)
    numeric = query.numeric_columns()
    rows = 0
    for rows, row in enumerate(_rows(query), start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if column in numeric:
                sheet.write_number(rows, column, int(value))  # ids, versions and scores stay numbers
            else:
                sheet.write_string(rows, column, str(neutralise(value)))
        if rows % PROGRESS_EVERY == 0:
            progress(rows)
    workbook.close()
    progress(rows)
    return rows


# --- Export jobs: created from the dashboard, written by a worker, downloaded when ready ------------------------


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_create(*, user: Any, survey: Survey, start: date, end: date, segment: str, fmt: str, language: str) -> Any:
    """Record the export and hand it to a worker once the record is committed."""
    from django.db import transaction
    from django.db.models import Sum

    from outbox.dispatch import outbox_add
    from reports.models import DailyRollup, ExportJob
    from surveys.building import headline_question_ids

    # The rollups say, without reading the responses, about how many rows to expect: the progress bar's scale.
    # One row per response: count each version's headline question once, not every question of its kind.
    questions = headline_question_ids(survey)
    expected = DailyRollup.objects.filter(survey=survey, question_id__in=questions, day__gte=start, day__lte=end)
    if segment:
        expected = expected.filter(segment=segment)
    with transaction.atomic():  # the job and the outbox row that runs it, together
        job = ExportJob.objects.create(
            created_by=user,
            survey=survey,
            start=start,
            end=end,
            segment=segment,
            format=fmt,
            language=language,
            expected_rows=expected.aggregate(n=Sum("count"))["n"] or 0,
        )
        outbox_add(task="reports.tasks.export_run", args=[job.pk])
    return job


def export_run(job_id: int) -> str:
    """Write the export's file. Safe to run again: a finished job is left alone, an interrupted one is redone."""
    import secrets

    from reports.models import ExportJob

    job = ExportJob.objects.select_related("survey").filter(pk=job_id).first()
    if job is None or job.status == ExportJob.Status.DONE:
        return "nothing to do"
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows=0, error="")
    query = ExportQuery(survey=job.survey, start=job.start, end=job.end, segment=job.segment, language=job.language)
    name = f"{job.pk}-{secrets.token_hex(8)}.{job.format}"
    target = export_dir() / name
    partial = target.with_suffix(".part")

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows=rows)

    try:
        if job.format == ExportJob.Format.XLSX:
            rows = write_xlsx(query, partial, progress=progress)
        else:
            with partial.open("wb") as out:
                rows = write_csv(query, out, progress=progress)
        partial.replace(target)
    except Exception as error:
        partial.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=str(error)[:300])
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, rows=rows, file_name=name, finished_at=timezone.now()
    )
    return "done"


def exports_remove_old(now: datetime | None = None) -> int:
    """Beat: exports hold personal data; their files go after EXPORT_KEEP_DAYS."""
    from datetime import timedelta

    from reports.models import ExportJob

    now = now or timezone.now()
    old = ExportJob.objects.filter(created_at__lt=now - timedelta(days=settings.EXPORT_KEEP_DAYS))
    for job in old:
        if job.file_name:
            (export_dir() / job.file_name).unlink(missing_ok=True)
    return old.delete()[0]


def exports_remove_for_erasure(*, survey_ids: frozenset[int]) -> int:
    """Delete kept export files (and their jobs) that may hold an erased customer's rows: every export of a survey
    they answered. Exports are made again in a minute; personal data must not outlive the erasure."""
    from reports.models import ExportJob

    jobs = ExportJob.objects.filter(survey_id__in=survey_ids)
    for job in jobs:
        if job.file_name:
            (export_dir() / job.file_name).unlink(missing_ok=True)
    return jobs.delete()[0]
