from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from audit.trail import register
        from customers.models import Customer

        # Entries written while customers lived in `surveys` carry the type "surveys.customer"; they are the same
        # records, so the trail, its filters and audit_verify read both names as one.
        register(
            Customer,
            fields=["name", "email", "phone", "language", "segment", "customer_type", "external_id", "opted_out_at",
                    "erased_at"],
            personal=["name", "email", "phone", "external_id"],
            label=lambda customer: f"#{customer.pk}",
            made_on_trail=True,
            former_labels=["surveys.customer"],
        )  # fmt: skip
