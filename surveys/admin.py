from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from surveys.invitations import invitation_create, invitation_link, invitation_renew_link
from surveys.models import Answer, Customer, Invitation, Question, Response, Survey, SurveyVersion


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "language", "segment", "customer_type", "external_id"]
    list_filter = ["language", "customer_type", "segment"]
    search_fields = ["name", "email", "external_id"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "kind", "text_vi", "text_en", "required"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Questions are edited through the survey builder, which refuses to change answered versions.
        return False


@admin.register(SurveyVersion)
class SurveyVersionAdmin(admin.ModelAdmin):
    list_display = ["survey", "number", "created_at"]
    inlines = [QuestionInline]
    readonly_fields = ["survey", "number", "created_at"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "owner", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title_en", "title_vi"]
    readonly_fields = ["current_version", "created_at", "updated_at"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "version", "position", "kind", "required"]
    list_filter = ["kind"]

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        if obj is not None and obj.version.responses.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        if obj is not None and obj.version.responses.exists():
            return False
        return super().has_delete_permission(request, obj)


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["survey", "customer"]

    def clean(self) -> dict:
        data = super().clean()
        survey = data.get("survey")
        if self.instance.pk is None and survey is not None and survey.status != Survey.Status.ACTIVE:
            raise ValidationError(_("Activate the survey before inviting customers."))
        return data


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationAdminForm
    list_display = ["survey", "customer", "created_at", "expires_at", "sent_at", "answered_at"]
    list_filter = ["survey"]
    search_fields = ["customer__name", "customer__email"]
    autocomplete_fields = ["customer"]
    fields = ["survey", "customer", "expires_at", "created_at", "sent_at", "answered_at"]
    readonly_fields = ["expires_at", "created_at", "sent_at", "answered_at"]
    actions = ["renew_links"]

    def get_readonly_fields(self, request: HttpRequest, obj: Invitation | None = None) -> list[str]:
        return self.readonly_fields + (["survey", "customer"] if obj else [])

    def save_model(self, request: HttpRequest, obj: Invitation, form: object, change: bool) -> None:
        if change:
            return
        try:
            invitation, token = invitation_create(survey=obj.survey, customer=obj.customer, created_by=request.user)
        except ValidationError as error:
            # The admin has already decided to save; report why nothing was created.
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        obj.pk = invitation.pk
        self.message_user(
            request,
            format_html(_("Invitation created. Its link (shown only now): <code>{}</code>"), invitation_link(token)),
            messages.SUCCESS,
        )

    @admin.action(description=_("Make new links for the selected invitations (old links stop working)"))
    def renew_links(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for invitation in queryset.select_related("customer"):
            try:
                token = invitation_renew_link(invitation=invitation)
            except ValidationError as error:
                self.message_user(request, f"{invitation}: {'; '.join(error.messages)}", messages.WARNING)
                continue
            self.message_user(request, format_html("{}: <code>{}</code>", invitation, invitation_link(token)))


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    readonly_fields = ["question", "number", "text", "choices"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "customer", "language", "submitted_at"]
    list_filter = ["survey", "language"]
    readonly_fields = ["survey", "version", "invitation", "customer", "language", "submitted_at"]
    inlines = [AnswerInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["response", "question", "number", "text"]
    list_select_related = ["response", "question"]
    readonly_fields = ["response", "question", "number", "text", "choices"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Answer | None = None) -> bool:
        # What a customer answered is a record, not a draft.
        return False
