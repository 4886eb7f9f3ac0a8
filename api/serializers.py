"""What the API reads and writes. Serializers validate shapes only; the rules are the apps' services'."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.validators import validate_one_line
from customers.models import Customer, Language
from feedback.models import CaseEvent, Category, Channel, ComplaintCase, Impact, Severity
from surveys.models import Answer, Invitation, Response, Survey


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class CustomerSerializer(serializers.ModelSerializer):
    erased = serializers.SerializerMethodField()
    opted_out = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id", "external_id", "name", "email", "phone", "language", "segment", "customer_type", "created_at",
            "opted_out", "erased",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "opted_out", "erased"]
        # The model's partial unique constraint is checked by the service (full_clean), in one transaction.
        validators: list[Any] = []

    def get_erased(self, customer: Customer) -> bool:
        return customer.erased_at is not None

    def get_opted_out(self, customer: Customer) -> bool:
        return customer.opted_out_at is not None


class SurveySummarySerializer(serializers.ModelSerializer):
    """A survey as an integration needs it: the id to ask it by (POST /invitations/), its kind, state and titles."""

    class Meta:
        model = Survey
        fields = ["id", "kind", "status", "title_vi", "title_en"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    """A complaint category: the id to file a case under (POST /cases/), named in both languages."""

    class Meta:
        model = Category
        fields = ["id", "name_vi", "name_en", "active"]
        read_only_fields = fields


class CustomerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, validators=[validate_one_line])
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                  validators=[validate_one_line])  # fmt: skip
    language = serializers.ChoiceField(choices=Language.choices, required=False, default=Language.VI)
    segment = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                    validators=[validate_one_line])  # fmt: skip
    customer_type = serializers.ChoiceField(choices=Customer.Type.choices, required=False,
                                            default=Customer.Type.DIRECT)  # fmt: skip
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                        validators=[validate_one_line])  # fmt: skip


class CustomerUpsertSerializer(CustomerWriteSerializer):
    external_id = None  # type: ignore[assignment]  # from the URL


class EraseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text=_("Who asked and how (recorded with the erasure)."))


class InvitationRequestSerializer(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    customer_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    customer_external_id = serializers.CharField(required=False, max_length=100)
    customer = CustomerWriteSerializer(
        required=False, help_text=_("A customer to use or create on the fly: matched by external_id when given.")
    )
    send = serializers.BooleanField(default=False, help_text=_("Email the link now; otherwise it is returned."))
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=365)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("customer_id", "customer_external_id", "customer") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of customer_id, customer_external_id or customer."), code="customer"
            )
        return attrs


class InvitationSerializer(serializers.ModelSerializer):
    # Choices, so that the schema lists the states and reasons a client must handle (a plain string said nothing).
    state = serializers.ChoiceField(source="status", choices=Invitation.Status.choices)
    skip_reason = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "survey", "customer", "state", "skip_reason", "channel", "link", "created_at", "expires_at",
                  "sent_at", "answered_at"]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=Invitation.Skip.choices, allow_null=True))
    def get_skip_reason(self, invitation: Invitation) -> str | None:
        return invitation.status_reason or None if invitation.status == Invitation.Status.SKIPPED else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_link(self, invitation: Invitation) -> str | None:
        return self.context.get("links", {}).get(invitation.pk)


# What InvitationSerializer gives, built directly: DRF builds a ModelSerializer's fields anew for each instance,
# which cost more than the rest of the answer on the API's busiest write (bench/api.py). Tests compare the two.
_WHEN = serializers.DateTimeField()


def _when(value: Any) -> str | None:
    return None if value is None else _WHEN.to_representation(value)


def invitation_data(invitation: Invitation, *, link: str | None) -> dict[str, Any]:
    """InvitationSerializer's output for this invitation, with `link` (None when it is not handed out)."""
    skipped = invitation.status == Invitation.Status.SKIPPED
    return {
        "id": invitation.pk,
        "survey": invitation.survey_id,
        "customer": invitation.customer_id,
        "state": invitation.status,
        "skip_reason": (invitation.status_reason or None) if skipped else None,
        "channel": invitation.channel,
        "link": link,
        "created_at": _when(invitation.created_at),
        "expires_at": _when(invitation.expires_at),
        "sent_at": _when(invitation.sent_at),
        "answered_at": _when(invitation.answered_at),
    }


_BIGINT = 2**63 - 1
_PLAIN = {"survey", "customer_id", "send", "expires_in_days"}


def _whole(value: Any, high: int) -> bool:
    return type(value) is int and 1 <= value <= high


def plain_invitation_request(data: Any) -> dict[str, Any] | None:
    """InvitationRequestSerializer's validated data for the common request (survey and customer_id as JSON
    integers in range, send a JSON boolean, expires_in_days 1-365 if given), or None for any other body, which then
    goes to the serializer: its answers (and its errors) stay the one source."""
    if not isinstance(data, dict) or not data.keys() <= _PLAIN:
        return None
    if not (_whole(data.get("survey"), _BIGINT) and _whole(data.get("customer_id"), _BIGINT)):
        return None
    send = data.get("send", False)
    if type(send) is not bool:
        return None
    plain = {"survey": data["survey"], "customer_id": data["customer_id"], "send": send}
    if "expires_in_days" in data:
        if not _whole(data["expires_in_days"], 365):
            return None
        plain["expires_in_days"] = data["expires_in_days"]
    return plain


class AnswerSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="question.kind")
    position = serializers.IntegerField(source="question.position")
    question_text = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["question", "position", "kind", "question_text", "number", "text", "choices"]

    def get_question_text(self, answer: Answer) -> str:
        return answer.question.text(self.context.get("language", "vi"))


class ResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Response
        fields = ["id", "survey", "version", "customer", "invitation", "language", "segment", "channel",
                  "submitted_at"]  # fmt: skip


class ResponseDetailSerializer(ResponseSerializer):
    answers = serializers.SerializerMethodField()

    class Meta(ResponseSerializer.Meta):
        fields = [*ResponseSerializer.Meta.fields, "answers"]

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, response: Response) -> list[dict[str, Any]]:
        answers = sorted(response.answers.all(), key=lambda a: a.question.position)
        return AnswerSerializer(answers, many=True, context=self.context).data  # type: ignore[return-value]


API_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.SURVEY]


class CaseCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=API_CHANNELS)
    description = serializers.CharField(max_length=10000)
    customer_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    customer_external_id = serializers.CharField(required=False, max_length=100)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                         validators=[validate_one_line])  # fmt: skip
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                          validators=[validate_one_line])  # fmt: skip
    language = serializers.ChoiceField(choices=Language.choices, required=False, default=Language.VI)
    product = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                    validators=[validate_one_line])  # fmt: skip
    remedy_sought = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    category = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.MEDIUM)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False, default=Impact.ONE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "customer_id" in attrs and "customer_external_id" in attrs:
            raise serializers.ValidationError(_("Give customer_id or customer_external_id, not both."))
        return attrs


class CaseEventSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_kind_display")
    text = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["at", "kind", "label", "text", "from_status", "to_status"]

    def get_text(self, event: CaseEvent) -> str:
        # Internal notes stay inside: an integration sees that one was added, not what it says.
        return "" if event.kind == CaseEvent.Kind.NOTE else event.display_text


class CaseSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    timeline = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintCase
        fields = [
            "reference", "channel", "status", "status_label", "priority", "severity", "impact", "customer",
            "category", "received_at", "acknowledge_due", "respond_due", "close_due", "acknowledged_at",
            "responded_at", "closed_at", "customer_accepted", "timeline",
        ]  # fmt: skip

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_timeline(self, case: ComplaintCase) -> list[dict[str, Any]]:
        return CaseEventSerializer(case.events.all(), many=True).data  # type: ignore[return-value]


class EstimateSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    enough = serializers.BooleanField(help_text=_("False below REPORTS_MIN_N answers: do not read the value."))
    method = serializers.CharField()
    note = serializers.CharField()


class PeriodSerializer(EstimateSerializer):
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    partial = serializers.BooleanField()


class SegmentSerializer(EstimateSerializer):
    segment = serializers.CharField()


class AggregateSerializer(serializers.Serializer):
    survey = serializers.IntegerField()
    measure = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    granularity = serializers.CharField()
    segment = serializers.CharField()
    total = EstimateSerializer()
    periods = PeriodSerializer(many=True)
    segments = SegmentSerializer(many=True)
