from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from feedback.models import (
    ActionItem,
    CaseEvent,
    Category,
    ComplaintCase,
    ComplaintSettings,
    CorrectiveAction,
    EffectivenessReview,
    TimeLimit,
)


class NoDelete:
    """Complaints and corrective actions are records (ISO 10002, 9001 10.2.2): nothing is hard-deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["name_vi", "name_en", "active"]


@admin.register(TimeLimit)
class TimeLimitAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["severity", "acknowledge_hours", "respond_hours", "close_hours"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    readonly_fields = ["at", "actor", "kind", "from_status", "to_status", "text"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ComplaintCase)
class ComplaintCaseAdmin(NoDelete, SimpleHistoryAdmin):
    list_display = ["reference", "channel", "status", "priority", "assignee", "received_at"]
    list_filter = ["status", "channel", "severity", "category"]
    search_fields = ["reference", "contact_name", "contact_email", "description"]
    inlines = [CaseEventInline]
    # The workflow (status, dates, timeline) is changed through the case page, which keeps the rules.
    readonly_fields = [
        "reference",
        "status",
        "received_at",
        "acknowledge_due",
        "respond_due",
        "close_due",
        "acknowledged_at",
        "responded_at",
        "closed_at",
        "escalated_at",
        "response",
        "priority",
        "customer_accepted",
        "created_by",
    ]
    raw_id_fields = ["customer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0
    can_delete = False


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(NoDelete, SimpleHistoryAdmin):
    list_display = ["reference", "title", "status", "owner", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "title"]
    readonly_fields = ["reference", "status", "contained_at", "decided_at", "analysed_at", "closed_at"]
    inlines = [ActionItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ActionItem)
class ActionItemAdmin(NoDelete, SimpleHistoryAdmin):
    list_display = ["description", "action", "owner", "due_date", "status"]
    list_filter = ["status"]


@admin.register(EffectivenessReview)
class EffectivenessReviewAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["action", "reviewed_on", "result", "reviewer"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ComplaintSettings)
class ComplaintSettingsAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["__str__", "handling_survey"]
