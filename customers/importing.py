"""Customer CSV import: a preview that explains every row's problems, then one transaction for the valid rows.

Columns (header names in English or Vietnamese, any order): name, email, language, segment (or segments, the first
is kept), type (direct/indirect), external_id, phone. UTF-8 with or without a BOM. Existing customers are updated,
matched by external ID first, then by email.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from audit.trail import audit_append, audit_entry_for, audit_record_many, audit_snapshot
from config import formatting
from config.validators import has_control_characters
from customers.models import Customer
from customers.services import external_id_clean

MAX_ROWS = 100_000
HEADERS = {
    "name": "name",
    "tên": "name",
    "họ tên": "name",
    "ho ten": "name",
    "email": "email",
    "e-mail": "email",
    "language": "language",
    "ngôn ngữ": "language",
    "ngon ngu": "language",
    "segment": "segment",
    "segments": "segment",
    "segment(s)": "segment",
    "phân khúc": "segment",
    "type": "customer_type",
    "customer type": "customer_type",
    "direct/indirect": "customer_type",
    "loại": "customer_type",
    "external_id": "external_id",
    "external id": "external_id",
    "mã ngoài": "external_id",
    "id": "external_id",
    "phone": "phone",
    "điện thoại": "phone",
    "dien thoai": "phone",
}
LANGUAGES = {
    "vi": "vi",
    "vietnamese": "vi",
    "tiếng việt": "vi",
    "tieng viet": "vi",
    "en": "en",
    "english": "en",
    "tiếng anh": "en",
    "": "vi",
}
TYPES = {"direct": "direct", "trực tiếp": "direct", "indirect": "indirect", "gián tiếp": "indirect", "": "direct"}
LIMITS = {"name": 200, "email": 254, "segment": 100, "external_id": 100, "phone": 40}


@dataclass
class Row:
    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    rows: list[Row]
    file_problem: str = ""

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if not r.problems]

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if r.problems]


def parse(data: bytes) -> Parsed:
    """Read and check every row; nothing is written."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed([], _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."))
    if "\x00" in text:
        # PostgreSQL cannot store a NUL character: refuse the file before it previews as valid.
        return Parsed(
            [], _("The file contains NUL characters, so it is not a plain text CSV. Save it again as “CSV UTF-8”.")
        )
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return _parse_rows(reader)
    except csv.Error:
        # A cell over the csv module's limit (128 KiB), or a malformed quote: nothing is imported.
        line = reader.line_num
        return Parsed(
            [],
            _("The file cannot be read near line %(line)s: a cell is too long or a quote is malformed.")
            % {"line": line},
        )


def _parse_rows(reader: Any) -> Parsed:
    header = next(reader, None)
    if not header:
        return Parsed([], _("The file is empty."))
    columns = [HEADERS.get(h.strip().lower()) for h in header]
    if "name" not in columns:
        return Parsed([], _("The first line must name the columns, including “name”."))
    rows: list[Row] = []
    seen_email: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            too_many = _("The file has more than %(max)s rows: split it.")
            return Parsed([], too_many % {"max": formatting.number(MAX_ROWS)})
        values = {col: cells[i].strip() for i, col in enumerate(columns) if col and i < len(cells)}
        row = Row(number, values)
        _check(row, seen_email, seen_external)
        rows.append(row)
    return Parsed(rows)


def _check(row: Row, seen_email: dict[str, int], seen_external: dict[str, int]) -> None:
    v = row.values
    if not v.get("name"):
        row.problems.append(_("The name is missing."))
    for key, value in v.items():
        if "\n" in value or "\r" in value:
            # Most often a quote (") opened and never closed, which swallows the lines after it into one cell.
            row.problems.append(
                _('The %(column)s spans several lines: check for a quote (") that is not closed.') % {"column": key}
            )
        elif has_control_characters(value):
            row.problems.append(
                _("The %(column)s contains tabs or other control characters: write it on one line.") % {"column": key}
            )
    for key, limit in LIMITS.items():
        if len(v.get(key, "")) > limit:
            row.problems.append(
                _("The %(column)s is longer than %(limit)s characters.") % {"column": key, "limit": limit}
            )
    email = v.get("email", "").lower()
    v["email"] = email
    if email:
        try:
            validate_email(email)
        except ValidationError:
            row.problems.append(_("“%(email)s” is not an email address.") % {"email": email})
        if email in seen_email:
            row.problems.append(_("The same email is on line %(line)s.") % {"line": seen_email[email]})
        seen_email.setdefault(email, row.line)
    language = LANGUAGES.get(v.get("language", "").lower())
    if language is None:
        row.problems.append(_("Unknown language “%(value)s”: use vi or en.") % {"value": v.get("language")})
    else:
        v["language"] = language
    kind = TYPES.get(v.get("customer_type", "").lower())
    if kind is None:
        row.problems.append(_("Unknown type “%(value)s”: use direct or indirect.") % {"value": v["customer_type"]})
    else:
        v["customer_type"] = kind
    v["segment"] = v.get("segment", "").replace(";", ",").split(",")[0].strip()
    if "external_id" in v:
        v["external_id"] = external_id_clean(v["external_id"])
    external = v.get("external_id", "")
    if external:
        if external in seen_external:
            row.problems.append(_("The same external ID is on line %(line)s.") % {"line": seen_external[external]})
        seen_external.setdefault(external, row.line)


FIELDS = ("name", "email", "language", "segment", "customer_type", "external_id", "phone")


@transaction.atomic
def import_rows(parsed: Parsed) -> tuple[int, int]:
    """Create or update the valid rows in one transaction: (created, updated). A failure leaves nothing behind."""
    valid = parsed.valid
    externals = {r.values["external_id"] for r in valid if r.values.get("external_id")}
    emails = {r.values["email"] for r in valid if r.values.get("email")}
    by_external = {c.external_id: c for c in Customer.objects.filter(external_id__in=externals, erased_at=None)}
    by_email: dict[str, Customer] = {}
    for customer in Customer.objects.filter(email__in=emails, erased_at=None).order_by("id"):
        by_email.setdefault(customer.email.lower(), customer)
    create, update = [], {}
    before: dict[int, dict] = {}
    for row in valid:
        values = {f: row.values.get(f, "") for f in FIELDS}
        existing = by_external.get(values["external_id"]) if values["external_id"] else None
        existing = existing or (by_email.get(values["email"]) if values["email"] else None)
        if existing is None:
            create.append(Customer(**values))
        else:
            before.setdefault(existing.pk, audit_snapshot(existing))
            for name, value in values.items():
                # An empty cell keeps what is stored: a file without phones must not wipe them.
                if value or name in ("language", "customer_type"):
                    setattr(existing, name, value)
            update[existing.pk] = existing
    Customer.objects.bulk_create(create, batch_size=2000)
    Customer.objects.bulk_update(list(update.values()), FIELDS, batch_size=2000)
    # One audit entry per customer, appended in one go (one lock, one bulk INSERT), in this transaction.
    audit_record_many(create, action="create", via="import")
    entries = [audit_entry_for(c, action="update", before=before[pk], via="import") for pk, c in update.items()]
    audit_append([e for e in entries if e is not None])
    return len(create), len(update)
