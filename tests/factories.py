from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.roles import QUALITY_MANAGER, STAFF
from audit.trail import audit_record
from customers.models import Customer
from surveys import building
from surveys.invitations import invitation_create
from surveys.models import Answer, Invitation, Response, Survey
from surveys.scoring import SurveyKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        self.save()


def quality_manager(**kwargs: object) -> User:
    return UserFactory(role=QUALITY_MANAGER, **kwargs)


def staff_user(**kwargs: object) -> User:
    return UserFactory(role=STAFF, **kwargs)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    language = "vi"
    segment = "retail"
    external_id = factory.Sequence(lambda n: f"EXT-{n}")

    @classmethod
    def _create(cls, model_class: type[Customer], *args: object, **kwargs: object) -> Customer:
        # On the trail as every customer made by a service is (audit_verify reports a customer it never saw).
        customer = super()._create(model_class, *args, **kwargs)
        audit_record(customer, action="create")
        return customer


def make_survey(
    *, kind: str = SurveyKind.NPS, owner: User | None = None, active: bool = True, with_comment: bool = True
) -> Survey:
    survey = building.survey_create(
        owner=owner or quality_manager(),
        kind=kind,
        title_en=f"{kind.upper()} survey",
        title_vi=f"Khảo sát {kind.upper()}",
        with_comment=with_comment,
    )
    if active:
        building.survey_activate(survey=survey)
    return survey


def make_invitation(
    *, survey: Survey | None = None, customer: Customer | None = None, language: str = "vi"
) -> tuple[Invitation, str]:
    survey = survey or make_survey()
    customer = customer or CustomerFactory(language=language)
    return invitation_create(survey=survey, customer=customer)


def expire(invitation: Invitation) -> None:
    invitation.expires_at = timezone.now() - timedelta(seconds=1)
    invitation.save(update_fields=["expires_at"])


def make_response(
    survey: Survey, score: int, *, customer: Customer | None = None, at: datetime | None = None
) -> Response:
    """A stored response to the survey's headline question, as if submitted at `at` (bulk data for reports)."""
    version = survey.current_version
    headline = version.questions.order_by("position").first()
    response = Response.objects.create(
        survey=survey,
        version=version,
        customer=customer,
        language="vi",
        submitted_at=at or timezone.now(),
        segment=customer.segment if customer else "",
    )
    Answer.objects.create(response=response, question=headline, number=score)
    return response


def analysed(action, *, root_cause: str = "Thiếu tài xế"):  # type: ignore[no-untyped-def]
    """A corrective action taken through containment, the decision that action is needed and its root cause (the
    steps before action items), through the services."""
    from feedback import corrective

    corrective.action_record_containment(action=action, containment="Giao bù")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại")
    return corrective.action_record_root_cause(
        action=action, root_cause=root_cause, method="other", similar_possible=False, similar="",
        update_risks=False, qms_change=False,
    )  # fmt: skip
