from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin import RecordAdmin, RecordInline
from surveys.invitations import invitation_create, invitation_link, invitation_renew_link
from surveys.models import Answer, Invitation, Question, Response, Survey, SurveyVersion

# Every model here is a quality record: the admin reads them, and changes go through the staff pages' services
# (surveys/building.py, invitations.py), which keep the rules, refresh the respondent cache and
# write the audit trail.


class QuestionInline(RecordInline):
    model = Question
    fields = ["position", "kind", "text_vi", "text_en", "required"]
    readonly_fields = fields
    show_change_link = True


@admin.register(SurveyVersion)
class SurveyVersionAdmin(RecordAdmin):
    list_display = ["survey", "number", "created_at"]
    inlines = [QuestionInline]


@admin.register(Survey)
class SurveyAdmin(RecordAdmin):
    list_display = ["__str__", "kind", "status", "owner", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title_en", "title_vi"]


@admin.register(Question)
class QuestionAdmin(RecordAdmin):
    list_display = ["__str__", "version", "position", "kind", "required"]
    list_filter = ["kind"]


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
class InvitationAdmin(RecordAdmin):
    form = InvitationAdminForm
    list_display = ["survey", "customer", "created_at", "expires_at", "sent_at", "answered_at"]
    list_filter = ["survey"]
    search_fields = ["customer__name", "customer__email"]
    autocomplete_fields = ["customer"]
    fields = ["survey", "customer", "expires_at", "created_at", "sent_at", "answered_at"]
    readonly_fields = ["expires_at", "created_at", "sent_at", "answered_at"]
    actions = ["renew_links"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Adding calls invitation_create (save_model below); nothing else about an invitation is edited here.
        return admin.ModelAdmin.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The admin's action (renew links) needs the change permission on the list; no change form saves.
        return obj is None and admin.ModelAdmin.has_change_permission(self, request, obj)

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


class AnswerInline(RecordInline):
    model = Answer
    readonly_fields = ["question", "number", "text", "choices"]


@admin.register(Response)
class ResponseAdmin(RecordAdmin):
    # What a customer answered is a record, not a draft: never changed, never deleted (only erased in place).
    list_display = ["id", "survey", "customer", "language", "submitted_at"]
    list_filter = ["survey", "language"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(RecordAdmin):
    list_display = ["response", "question", "number", "text"]
    list_select_related = ["response", "question"]
