from django.contrib import admin
from django.http import HttpRequest

from audit.admin import RecordAdmin, RecordHistoryAdmin, RecordInline
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
class CategoryAdmin(RecordAdmin):
    # Made, renamed and retired on Settings → Categories (schedule.category_save: audited); read here.
    list_display = ["name_vi", "name_en", "active"]


@admin.register(TimeLimit)
class TimeLimitAdmin(RecordAdmin):
    # Changed on Settings → Time limits (schedule.time_limit_update: checked and audited); read here.
    list_display = ["severity", "acknowledge_hours", "respond_hours", "close_hours"]


class CaseEventInline(RecordInline):
    model = CaseEvent
    readonly_fields = ["at", "actor", "kind", "from_status", "to_status", "text"]


# Cases, corrective actions, their items and reviews change only through feedback/workflow.py and corrective.py
# (the staff pages): they keep the workflow's rules, the timeline and the audit trail. The admin reads them. The
# history pages stay readable; their "Revert" is off (SIMPLE_HISTORY_REVERT_DISABLED): it saved an old version
# over the record with no timeline entry, e.g. reopening a closed case.


@admin.register(ComplaintCase)
class ComplaintCaseAdmin(RecordHistoryAdmin):
    list_display = ["reference", "channel", "status", "priority", "assignee", "received_at"]
    list_filter = ["status", "channel", "severity", "category"]
    search_fields = ["reference", "contact_name", "contact_email", "description"]
    inlines = [CaseEventInline]


class ActionItemInline(RecordInline):
    model = ActionItem


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(RecordHistoryAdmin):
    list_display = ["reference", "title", "status", "owner", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "title"]
    inlines = [ActionItemInline]


@admin.register(ActionItem)
class ActionItemAdmin(RecordHistoryAdmin):
    list_display = ["description", "action", "owner", "due_date", "status"]
    list_filter = ["status"]


@admin.register(EffectivenessReview)
class EffectivenessReviewAdmin(RecordAdmin):
    list_display = ["action", "reviewed_on", "result", "reviewer"]


@admin.register(ComplaintSettings)
class ComplaintSettingsAdmin(NoDelete, admin.ModelAdmin):
    """Only the complaint-handling survey is chosen here. The business calendar and the escalation thresholds are
    audited and checked by schedule.calendar_update (Settings → Business calendar): saved here they moved every
    later due date with no trail, and an end before the start was accepted. The closed loop's watermarks are the
    sweep's own: moved by hand, detractors past them would never get a case."""

    list_display = ["__str__", "handling_survey"]
    fields = ["handling_survey", "work_start", "work_end", "working_days", "escalate_managers_after",
              "escalate_top_after"]  # fmt: skip
    readonly_fields = fields[1:]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # one row, made by ComplaintSettings.load()
