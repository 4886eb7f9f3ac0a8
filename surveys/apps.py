from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from audit.trail import register
        from customers.services import customer_erased, customer_erasing, customer_panels
        from surveys.customer_data import customer_surveys_panel, erase_survey_data, erasure_findings
        from surveys.models import Campaign, Invitation, Question, Response, Survey, SurveyVersion

        # The customer page shows this app's panel first; an erasure removes what this app copied.
        customer_panels.insert(0, customer_surveys_panel)
        customer_erasing.connect(erasure_findings, dispatch_uid="surveys.erasure_findings")
        customer_erased.connect(erase_survey_data, dispatch_uid="surveys.erase_survey_data")

        # The quality records of this app and the fields the audit trail follows (see audit/trail.py). A response's
        # answers are not: they are never changed, only erased, so its own row is their record. Its customer is:
        # an anonymous answer joins a customer when the address typed with it is confirmed (contact_claim_confirm).
        register(
            Survey,
            fields=[
                "kind", "title_en", "title_vi", "intro_en", "intro_vi", "status", "owner", "closed_loop",
                "nps_detractor_max", "csat_detractor_max", "ces_detractor_min", "public_key", "current_version",
                "plan_purpose", "plan_scope", "plan_population", "plan_method", "plan_frequency", "plan_sample_target",
            ],
        )  # fmt: skip
        register(SurveyVersion, fields=["survey", "number"])
        register(Response, fields=["customer"], label=lambda response: f"#{response.pk}")
        register(
            Question,
            fields=["version", "position", "kind", "text_en", "text_vi", "required", "choices", "scale_min",
                    "scale_max"],
        )  # fmt: skip
        register(
            Invitation,
            fields=["survey", "customer", "campaign", "expires_at", "created_by"],
            label=lambda invitation: f"#{invitation.pk}",
        )
        register(
            Campaign,
            fields=["survey", "name", "segment", "language", "customer_type", "audience_list", "send_at",
                    "expiry_days", "remind_after_days", "max_reminders"],
            personal=["audience_list"],
        )  # fmt: skip
