from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from audit.trail import register
        from reports import rollup  # noqa: F401  (connects the refresh after responses)
        from reports.models import (
            AnalysisSnapshot,
            ManagementReview,
            QualityObjective,
            ReviewAction,
            ReviewInput,
            ReviewOutput,
        )

        register(
            QualityObjective,
            fields=[
                "title",
                "metric",
                "target",
                "survey",
                "segment",
                "start",
                "due",
                "owner",
                "method",
                "resources",
                "active",
            ],
            made_on_trail=True,
        )
        # The frozen figures (`snapshot`) enter the trail as their SHA-256, in the sign-off's entry.
        register(
            ManagementReview,
            fields=["title", "period_start", "period_end", "status", "prepared_by", "decisions", "signed_by",
                    "signed_at", "previous", "chair", "attendees", "analyses"],
            made_on_trail=True,
        )  # fmt: skip
        register(
            ReviewAction,
            fields=["review", "description", "owner", "due", "done_at", "carried_from", "output", "kind"],
        )
        register(ReviewInput, fields=["review", "topic", "text", "owner"])
        register(ReviewOutput, fields=["review", "kind", "description"])
        register(AnalysisSnapshot, fields=["title", "survey", "filters", "figures", "conclusion", "created_by"])
        from customers.services import customer_erased

        customer_erased.connect(_erase_exports, dispatch_uid="reports.erase_exports")


def _erase_exports(sender, customer, data=None, **kwargs):  # type: ignore[no-untyped-def]
    from reports.exports import exports_remove_for_erasure

    if data is not None and data.survey_ids:
        exports_remove_for_erasure(survey_ids=data.survey_ids)
