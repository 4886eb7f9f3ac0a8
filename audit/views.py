"""The quality manager's view of the audit trail: list, filter, and export as CSV in the reader's language."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import quality_manager_required
from audit.selectors import TrailFilter, change_rows, decorated, type_choices

PAGE_SIZE = 50


@quality_manager_required
def trail(request: HttpRequest) -> HttpResponse:
    filters = TrailFilter.from_query(request.GET)
    page = Paginator(filters.query(), PAGE_SIZE).get_page(request.GET.get("page"))
    entries = decorated(page.object_list)
    for entry in entries:
        entry.rows = list(change_rows(entry))  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "audit/trail.html",
        {"page": page, "entries": entries, "filters": filters, "types": type_choices(), "params": params.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _neutral(text: str) -> str:
    # A spreadsheet runs a cell that starts like a formula; the trail's texts are data, never formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(filters: TrailFilter) -> Iterator[list[str]]:
    yield [
        _("Entry no."), _("When"), _("Who"), _("Through"), _("Record type"), _("Record"), _("Action"),
        _("Field"), _("Before"), _("After"), _("Reason"), _("Version"), _("Hash"),
    ]  # fmt: skip
    for chunk_start in range(0, 10**9, 2000):
        chunk = decorated(filters.query()[chunk_start : chunk_start + 2000])
        if not chunk:
            return
        for entry in chunk:
            head = [
                str(entry.seq),
                timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
                entry.actor_name or _("system"),
                entry.via_label,  # type: ignore[attr-defined]
                entry.type_label,  # type: ignore[attr-defined]
                entry.record_label or entry.record_id,
                entry.action_label,  # type: ignore[attr-defined]
            ]
            tail = [entry.reason, str(entry.version or ""), entry.hash]  # type: ignore[attr-defined]
            rows = list(change_rows(entry)) or [("", "", "")]
            for field, before, after in rows:
                yield [_neutral(v) for v in [*head, field, before, after, *tail]]


@quality_manager_required
def trail_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = TrailFilter.from_query(request.GET)
    writer = csv.writer(_Echo())
    # The BOM lets Excel read the file as UTF-8 (Vietnamese); the texts are in the reader's language.
    body = (writer.writerow(row) for row in _csv_rows(filters))
    response = StreamingHttpResponse(_with_bom(body), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{timezone.localdate():%Y%m%d}.csv"'
    return response


def _with_bom(rows: Iterator[str]) -> Iterator[str]:
    yield "\ufeff"
    yield from rows
