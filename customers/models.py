"""Customers: who is surveyed, in which language and segment, whether they opted out or were erased.

The tables keep the names they had when customers lived in `surveys` (`surveys_customer`,
`surveys_erasurerecord`): the move changed the code's layout, not the data."""

from __future__ import annotations

from collections.abc import Collection

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.validators import validate_one_line


class Language(models.TextChoices):
    VI = "vi", _("Vietnamese")
    EN = "en", _("English")


class Customer(models.Model):
    class Type(models.TextChoices):
        DIRECT = "direct", _("Direct customer")
        INDIRECT = "indirect", _("Indirect customer")

    name = models.CharField(_("name"), max_length=200, validators=[validate_one_line])
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[validate_one_line])
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.VI)
    segment = models.CharField(_("segment"), max_length=100, blank=True, db_index=True)
    customer_type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.DIRECT)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Set when the customer asked never to be surveyed again; they are never invited after that.
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    # Set when their personal data was erased on request; the row stays so that scores stay counted.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        db_table = "surveys_customer"
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_external_id_unique",
                violation_error_message=_("Another customer already has this external ID."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        # Django gives a partial unique constraint's error to no field: the API answered "Another customer already
        # has this external ID." with empty `fields`, and a form showed it above the form. It is the external id's.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            unique = next(c for c in self._meta.constraints if c.name == "customer_external_id_unique")
            taken = str(unique.violation_error_message)
            general = error.error_dict.get(NON_FIELD_ERRORS, [])
            moved = [e for e in general if str(e.message) == taken]
            if moved:
                general[:] = [e for e in general if e not in moved]
                if not general:
                    del error.error_dict[NON_FIELD_ERRORS]
                error.error_dict.setdefault("external_id", []).extend(moved)
            raise


class ErasureRecord(models.Model):
    """The record that a customer's personal data was erased on request (e.g. Vietnam's Decree 13/2023)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="erasures")
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("erased by")
    )
    reason = models.CharField(_("request"), max_length=300)

    class Meta:
        db_table = "surveys_erasurerecord"
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["-erased_at"]
        # A customer is erased once, however many requests arrive together.
        constraints = [models.UniqueConstraint(fields=["customer"], name="erasure_record_once_per_customer")]

    def __str__(self) -> str:
        return f"#{self.customer_id} {self.erased_at:%Y-%m-%d}"
