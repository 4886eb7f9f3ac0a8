from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from audit.trail import register
        from webhooks import events  # noqa: F401  (connect receivers)
        from webhooks.models import WebhookEndpoint

        # The secret itself never enters the trail: a roll is recorded as an extra change ("rolled").
        register(
            WebhookEndpoint,
            fields=["url", "description", "events", "active", "disabled_reason", "auto_disabled"],
            made_on_trail=True,
        )
