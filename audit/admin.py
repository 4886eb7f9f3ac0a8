"""The admin may read quality records, never go around the services that keep their rules and their trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from audit.models import AuditEntry


class RecordAdmin(admin.ModelAdmin):
    """Read-only: a quality record changes through its service (the staff pages), which checks the rules and writes
    the audit entry; nothing is deleted (ISO 9001 7.5.3, 10.2.2). Subclasses may allow an add that calls a service."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecordHistoryAdmin(RecordAdmin, SimpleHistoryAdmin):
    """Read-only, with the field history readable. Its "Revert" is off (SIMPLE_HISTORY_REVERT_DISABLED), and a POST
    to a past version is refused here too: simple-history saves the posted form over the record whatever that
    setting says, which reopened a closed case with no timeline entry."""

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class RecordInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordAdmin):
    list_display = ["seq", "at", "actor_name", "via", "record_type", "record_label", "action"]
    list_filter = ["record_type", "action", "via"]
    search_fields = ["record_id", "record_label", "actor_name"]
