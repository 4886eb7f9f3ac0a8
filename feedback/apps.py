from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"

    def ready(self) -> None:
        from audit.trail import register
        from feedback import customers, loop  # noqa: F401  (connect receivers, register the customer panel)
        from feedback.models import (
            ActionEvidence,
            ActionItem,
            Category,
            ComplaintCase,
            ComplaintSettings,
            CorrectiveAction,
            EffectivenessReview,
            PublicHoliday,
            TimeLimit,
        )
        from feedback.rootcause import analysis_summary

        register(
            ComplaintCase,
            fields=[
                "reference", "channel", "customer", "contact_name", "contact_email", "contact_phone", "language",
                "product", "description", "remedy_sought", "category", "severity", "impact", "priority", "status",
                "assignee", "created_by", "response", "received_at", "acknowledge_due", "respond_due", "close_due",
                "acknowledged_at", "responded_at", "closed_at", "escalated_at", "escalation_level", "resolution",
                "customer_accepted", "complexity", "immediate_action_needed", "immediate_action", "assessed_by",
                "assessed_at", "non_acceptance_reason", "recourse_offered_at", "handling_invitation",
            ],
            # Free text that can quote the customer (a detractor's comment is copied into the description) goes in
            # as a digest too: the trail cannot be rewritten, so it must not keep what an erasure removes.
            personal=["contact_name", "contact_email", "contact_phone", "description", "remedy_sought", "resolution"],
            made_on_trail=True,
        )  # fmt: skip
        register(
            CorrectiveAction,
            fields=[
                "reference", "title", "nonconformity", "cases", "owner", "status", "category", "survey", "segment",
                "effective_from", "containment", "contained_at", "action_needed", "decision_reason", "decided_at",
                "root_cause", "root_cause_method", "similar_possible", "similar_nonconformities", "root_cause_analysis",
                "analysed_at", "update_risks", "qms_change", "closed_at",
            ],
            readers={"root_cause_analysis": lambda value: analysis_summary(value) if isinstance(value, dict) else ""},
            # Its text starts as the case's words (title and nonconformity are pre-filled from a complaint that can
            # name the customer): digests, as the case's description, so an erasure leaves none of it in the trail;
            # and the label is the reference alone, not "reference title".
            personal=["title", "nonconformity", "containment", "decision_reason", "root_cause", "root_cause_analysis"],
            label=lambda action: action.reference,
            made_on_trail=True,
        )  # fmt: skip
        register(
            ActionEvidence,
            fields=["action", "step", "name", "content_type", "size", "sha256", "description", "uploaded_by"],
            label=lambda evidence: f"{evidence.action.reference} {evidence.name}",
            made_on_trail=True,
        )
        register(
            ActionItem,
            fields=["action", "description", "owner", "due_date", "status", "completed_at"],
            made_on_trail=True,
        )
        register(
            EffectivenessReview,
            fields=["action", "method", "evidence", "reviewer", "reviewed_on", "result"],
            label=lambda review: f"{review.action.reference} {review.reviewed_on}",
            made_on_trail=True,
        )
        # The business calendar moves every later due date, so its changes are on the trail too.
        register(
            ComplaintSettings,
            fields=["work_start", "work_end", "working_days", "escalate_managers_after", "escalate_top_after"],
        )
        register(PublicHoliday, fields=["date", "name_vi", "name_en"])
        # Complaints are counted and compared by category (feedback/schedule.py: category_save).
        register(Category, fields=["name_vi", "name_en", "active"])
        # Time limits move every later case's due dates too (feedback/schedule.py: time_limit_update).
        register(TimeLimit, fields=["severity", "acknowledge_hours", "respond_hours", "close_hours"])
