from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback import workflow
from feedback.models import CaseEvent, CaseStatus, ComplaintCase, TimeLimit
from tests.factories import CustomerFactory, quality_manager, staff_user

pytestmark = pytest.mark.django_db
S = CaseStatus


def new_case(**kwargs):
    defaults = {"channel": "phone", "description": "Giao hàng trễ", "contact_name": "Khách", "contact_phone": "090"}
    return workflow.case_create(**{**defaults, **kwargs})


def test_references_are_unique_per_year_and_sequential():
    with time_machine.travel("2026-03-01 10:00 +0700", tick=False):
        first, second = new_case(), new_case()
    with time_machine.travel("2027-01-02 10:00 +0700", tick=False):
        third = new_case()
    assert (first.reference, second.reference) == ("CMP-2026-000001", "CMP-2026-000002")
    assert third.reference == "CMP-2027-000001"


@pytest.mark.parametrize(
    ("severity", "impact", "priority"),
    [
        ("critical", "one", "p1"),
        ("high", "one", "p2"),
        ("high", "many", "p1"),
        ("medium", "one", "p3"),
        ("medium", "several", "p2"),
        ("low", "one", "p4"),
        ("low", "many", "p3"),
    ],
)
def test_priority_comes_from_severity_and_impact(severity, impact, priority):
    assert new_case(severity=severity, impact=impact).priority == priority


def test_a_case_needs_a_customer_or_a_contact():
    with pytest.raises(ValidationError):
        workflow.case_create(channel="phone", description="x")
    assert ComplaintCase.objects.count() == 0


def test_due_dates_follow_the_configured_time_limits_in_working_hours():
    TimeLimit.objects.update_or_create(
        severity="high", defaults={"acknowledge_hours": 4, "respond_hours": 10, "close_hours": 50}
    )
    # Mon 4 May 2026 09:00 in Ho Chi Minh City; the working day is 08:00–17:00, Monday to Friday.
    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = new_case(severity="high")
    local = timezone.localtime
    assert local(case.acknowledge_due).isoformat() == "2026-05-04T13:00:00+07:00"
    assert local(case.respond_due).isoformat() == "2026-05-05T10:00:00+07:00"  # 8 h Monday + 2 h Tuesday
    assert local(case.close_due).isoformat() == "2026-05-11T14:00:00+07:00"  # 8 + 4×9 to Friday, 6 h Monday


def test_a_case_at_17_55_before_a_public_holiday_falls_due_in_working_hours():
    # Wed 29 Apr 2026 17:55: 30 April and 1 May are public holidays (seeded), then the weekend.
    with time_machine.travel("2026-04-29 17:55 +0700", tick=False):
        case = new_case(severity="high")  # default limits 8 / 48 / 240 working hours
    local = timezone.localtime
    assert local(case.acknowledge_due).isoformat() == "2026-05-04T16:00:00+07:00"
    assert local(case.respond_due).isoformat() == "2026-05-11T11:00:00+07:00"
    assert local(case.close_due).isoformat() == "2026-06-09T14:00:00+07:00"


def test_a_holiday_added_by_a_quality_manager_moves_later_due_dates():
    from datetime import date

    from feedback import schedule

    schedule.holiday_add(actor=quality_manager(), day=date(2026, 5, 4), name_vi="Nghỉ công ty", name_en="Company day")
    with time_machine.travel("2026-04-29 17:55 +0700", tick=False):
        case = new_case(severity="high")
    assert timezone.localtime(case.acknowledge_due).isoformat() == "2026-05-05T16:00:00+07:00"


def test_only_allowed_transitions_are_accepted():
    actor = staff_user()
    case = new_case()
    with pytest.raises(ValidationError):
        workflow.case_transition(case=case, to_status=S.CLOSED, actor=actor, customer_accepted=True)
    with pytest.raises(ValidationError):
        workflow.case_transition(case=case, to_status=S.RESPONDED, actor=actor, message="x")
    case.refresh_from_db()
    assert case.status == S.RECEIVED


def test_full_path_records_every_step_in_the_timeline():
    actor = staff_user(first_name="Minh")
    case = new_case()
    workflow.case_transition(case=case, to_status=S.ACKNOWLEDGED, actor=actor)
    workflow.case_transition(case=case, to_status=S.INVESTIGATING, actor=actor, note="Gọi kho")
    with pytest.raises(ValidationError) as error:
        workflow.case_transition(case=case, to_status=S.RESPONDED, actor=actor)
    assert "message" in error.value.message_dict
    workflow.case_transition(case=case, to_status=S.RESPONDED, actor=actor, message="Hoàn tiền phí giao hàng")
    with pytest.raises(ValidationError):
        workflow.case_transition(case=case, to_status=S.CLOSED, actor=actor)
    workflow.case_transition(
        case=case, to_status=S.CLOSED, actor=actor, customer_accepted=True, resolution="Đã hoàn tiền"
    )
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.customer_accepted is True and case.closed_at is not None
    assert case.acknowledged_at and case.responded_at
    statuses = list(case.events.filter(kind="status").values_list("from_status", "to_status"))
    assert statuses == [
        (S.RECEIVED, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.INVESTIGATING),
        (S.INVESTIGATING, S.RESPONDED),
        (S.RESPONDED, S.CLOSED),
    ]
    assert case.events.filter(kind="message", text="Hoàn tiền phí giao hàng", actor=actor).exists()
    workflow.case_transition(case=case, to_status=S.REOPENED, actor=actor, note="Khách gọi lại")
    case.refresh_from_db()
    assert case.status == S.REOPENED and case.closed_at is None and case.customer_accepted is None


def test_edits_assignments_and_notes_are_in_the_timeline_and_history():
    actor, other = staff_user(), staff_user(first_name="Lan")
    case = new_case()
    workflow.case_assign(case=case, assignee=other, actor=actor)
    workflow.case_update(case=case, actor=actor, severity="critical", product="Gói cước A")
    workflow.case_add_note(case=case, actor=actor, text="Đã gọi lại")
    case.refresh_from_db()
    assert case.priority == "p1" and case.assignee == other
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "edited", "note"]
    assert "Gói cước A" in case.events.get(kind="edited").text
    assert case.history.count() >= 3
    with pytest.raises(ValidationError):
        workflow.case_add_note(case=case, actor=actor, text="  ")


def test_overdue_detection_by_step():
    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = new_case(severity="medium")  # 24 h / 120 h / 480 h
    minute = timedelta(minutes=1)
    assert workflow.overdue_step(case, case.acknowledge_due - minute) is None
    assert workflow.overdue_step(case, case.acknowledge_due + minute) == "acknowledge"
    case.status = S.INVESTIGATING
    assert workflow.overdue_step(case, case.acknowledge_due + minute) is None
    assert workflow.overdue_step(case, case.respond_due + minute) == "respond"
    case.status = S.RESPONDED
    assert workflow.overdue_step(case, case.respond_due + minute) is None
    assert workflow.overdue_step(case, case.close_due + minute) == "close"
    case.status = S.CLOSED
    assert workflow.overdue_step(case, case.close_due + timedelta(days=999)) is None


def test_escalation_runs_twice_and_escalates_once(mailoutbox, django_capture_on_commit_callbacks):
    quality_manager(email="qm@example.com")
    owner = staff_user(email="owner@example.com")
    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        late = new_case(assignee=owner)  # 24 working hours to acknowledge: Wed 6 May 15:00
        new_case(severity="low")  # 48 working hours: not late yet
    mailoutbox.clear()
    with time_machine.travel("2026-05-07 09:00 +0700", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert workflow.case_escalate_overdue() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert workflow.case_escalate_overdue() == 0
    late.refresh_from_db()
    assert late.escalated_at is not None
    assert late.events.filter(kind=CaseEvent.Kind.ESCALATED).count() == 1
    # Three working hours late: the first level only, the assignee.
    assert late.escalation_level == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["owner@example.com"]
    assert late.reference in mailoutbox[0].subject


@pytest.mark.parametrize(
    ("language", "greeting", "phrase"),
    [
        ("vi", "Kính gửi", "Theo dõi"),
        ("en", "Dear", "follow the case"),
    ],
)
def test_acknowledgement_and_decision_emails_in_the_customers_language(
    mailoutbox, django_capture_on_commit_callbacks, language, greeting, phrase
):
    customer = CustomerFactory(language=language, email="c@example.com", name="An")
    with django_capture_on_commit_callbacks(execute=True):
        case = new_case(customer=customer)
    assert len(mailoutbox) == 1
    ack = mailoutbox[0]
    assert ack.to == ["c@example.com"] and case.reference in ack.subject
    # Written by the system (RFC 3834): an absence auto-reply does not answer it.
    assert ack.message()["Auto-Submitted"] == "auto-generated"
    assert greeting in ack.body and phrase.lower() in ack.body.lower()
    token_link = [line for line in ack.body.splitlines() if "/c/" in line][0]
    assert token_link.startswith("http://127.0.0.1:8000/c/")
    case.refresh_from_db()
    assert case.status == S.ACKNOWLEDGED  # the email was the acknowledgement
    actor = staff_user()
    workflow.case_transition(case=case, to_status=S.INVESTIGATING, actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_transition(case=case, to_status=S.RESPONDED, actor=actor, message="Quyết định: hoàn tiền")
    assert len(mailoutbox) == 2 and "Quyết định: hoàn tiền" in mailoutbox[1].body
    assert mailoutbox[1].message()["Auto-Submitted"] is None  # the decision is a person's words, not automatic


def test_closing_sends_the_handling_survey_once(mailoutbox, django_capture_on_commit_callbacks):
    from surveys.models import Invitation

    actor = quality_manager()
    with django_capture_on_commit_callbacks(execute=True):
        case = new_case(contact_email="walkin@example.com", contact_name="Bình")
    with django_capture_on_commit_callbacks(execute=True):  # each step's emails leave at its commit
        for status, extra in [(S.INVESTIGATING, {}), (S.RESPONDED, {"message": "OK"})]:
            workflow.case_transition(case=case, to_status=status, actor=actor, **extra)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_transition(case=case, to_status=S.CLOSED, actor=actor, customer_accepted=False)
    invitation = Invitation.objects.get()
    assert invitation.customer.email == "walkin@example.com"
    assert invitation.survey.kind == "csat" and invitation.survey.closed_loop is False
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["walkin@example.com"]
    assert "/s/" in mailoutbox[0].body
    from feedback.notify import send_handling_survey

    assert send_handling_survey(case.pk, actor.pk) == "already-sent"


def test_message_without_an_email_address_is_refused():
    case = new_case()
    with pytest.raises(ValidationError):
        workflow.case_message_customer(case=case, actor=staff_user(), text="Xin chào")
    assert not case.events.filter(kind="message").exists()


def test_time_is_timezone_aware():
    assert timezone.is_aware(new_case().received_at)


def test_the_automatic_acknowledgement_stops_the_acknowledgement_clock(mailoutbox, django_capture_on_commit_callbacks):
    from audit.models import AuditEntry

    with time_machine.travel("2026-05-04 09:00:00.000 +0700", tick=False):
        emailed = new_case(contact_email="an@example.com", severity="critical")  # 2 working hours to acknowledge
        phoned = new_case(severity="critical")  # no address: staff must acknowledge it themselves
    with time_machine.travel("2026-05-04 09:00:00.100 +0700", tick=False):
        from feedback.notify import send_acknowledgement

        with django_capture_on_commit_callbacks(execute=True):
            assert send_acknowledgement(emailed.pk) == "sent"
    emailed.refresh_from_db()
    assert timezone.localtime(emailed.acknowledged_at).isoformat() == "2026-05-04T09:00:00.100000+07:00"
    assert emailed.status == S.ACKNOWLEDGED
    assert emailed.events.filter(kind=CaseEvent.Kind.STATUS, to_status=S.ACKNOWLEDGED, actor=None).exists()
    assert AuditEntry.objects.filter(record_id=str(emailed.pk), action="acknowledge", via="task").exists()
    # Sending again (a retried task) changes nothing.
    assert send_acknowledgement(emailed.pk) == "already-sent"
    with time_machine.travel("2026-05-04 12:00 +0700", tick=False):
        assert workflow.overdue_step(emailed) is None
        assert workflow.overdue_step(phoned) == "acknowledge"
        with django_capture_on_commit_callbacks(execute=True):
            assert workflow.case_escalate_overdue() == 1
    emailed.refresh_from_db()
    phoned.refresh_from_db()
    assert emailed.escalated_at is None and phoned.escalated_at is not None


def test_escalation_climbs_the_levels_at_the_set_overruns_each_once(mailoutbox, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group

    from accounts.roles import TOP_MANAGEMENT

    quality_manager(email="qm@example.com")
    director = staff_user(email="director@example.com")
    director.groups.add(Group.objects.get(name=TOP_MANAGEMENT))
    owner = staff_user(email="owner@example.com")
    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = new_case(severity="critical", assignee=owner)  # acknowledge by Mon 11:00 (2 working hours)

    def sweep(when):
        mailoutbox.clear()
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            count = workflow.case_escalate_overdue()
        case.refresh_from_db()
        return count, [sorted(m.to) for m in mailoutbox]

    assert sweep("2026-05-04 10:59 +0700") == (0, [])
    assert sweep("2026-05-04 11:30 +0700") == (1, [["owner@example.com"]])
    assert sweep("2026-05-04 12:00 +0700") == (0, [])
    # Defaults: quality managers 4 working hours past the limit, top management 16.
    assert sweep("2026-05-04 15:00 +0700") == (1, [["owner@example.com", "qm@example.com"]])
    assert case.escalation_level == 2
    # Tue 10:00 is only 6 + 2 = 8 working hours late: nothing new.
    assert sweep("2026-05-05 10:00 +0700") == (0, [])
    # Wed 12:00: 6 + 9 + 4 = 19 working hours late.
    assert sweep("2026-05-06 12:00 +0700") == (1, [["director@example.com"]])
    assert sweep("2026-05-07 12:00 +0700") == (0, [])
    assert case.escalation_level == 3
    texts = list(case.events.filter(kind=CaseEvent.Kind.ESCALATED).values_list("text", flat=True))
    assert texts == ["acknowledge:1", "acknowledge:2", "acknowledge:3"]


def test_a_case_found_late_climbs_every_level_in_order(mailoutbox, django_capture_on_commit_callbacks):
    quality_manager(email="qm@example.com")
    admin = staff_user(email="admin@example.com", is_superuser=True)  # stands in when nobody is top management
    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = new_case(severity="critical")  # nobody assigned: the quality managers hear first
    with time_machine.travel("2026-05-08 09:00 +0700", tick=False), django_capture_on_commit_callbacks(execute=True):
        assert workflow.case_escalate_overdue() == 3
    case.refresh_from_db()
    assert case.escalation_level == 3
    assert [m.to for m in mailoutbox][-1] == [admin.email]
    assert len(mailoutbox) == 3


def test_a_reopened_case_gets_new_time_limits_and_escalates_again_from_the_first_level(
    mailoutbox, django_capture_on_commit_callbacks
):
    from feedback import schedule

    quality_manager(email="qm@example.com")
    owner = staff_user(email="owner@example.com")
    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = new_case(assignee=owner)  # medium: 120 working hours to respond, 480 to close
    with time_machine.travel("2026-05-29 09:00 +0700", tick=False), django_capture_on_commit_callbacks(execute=True):
        workflow.case_escalate_overdue()  # the first round ran late: every level was told
        for status, extra in [(S.ACKNOWLEDGED, {}), (S.INVESTIGATING, {}), (S.RESPONDED, {"message": "Hoàn tiền"})]:
            workflow.case_transition(case=case, to_status=status, actor=owner, **extra)
        workflow.case_transition(case=case, to_status=S.CLOSED, actor=owner, customer_accepted=True)
    case.refresh_from_db()
    assert case.escalation_level == 3
    # Two months later the customer calls back: the case is handled again, with its own time to respond.
    with time_machine.travel("2026-08-03 09:00 +0700", tick=False):
        workflow.case_transition(case=case, to_status=S.REOPENED, actor=owner, note="Khách gọi lại")
        case.refresh_from_db()
        assert case.respond_due == schedule.due_after(timezone.now(), 120)
        assert case.close_due == schedule.due_after(timezone.now(), 480)
        assert workflow.overdue_step(case) is None and case.escalation_level == 0
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert workflow.case_escalate_overdue() == 0
    assert mailoutbox == []
    # Past the new limit, the assignee hears first, as in the first round.
    late = case.respond_due + timedelta(hours=1)
    with time_machine.travel(late, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert workflow.case_escalate_overdue() == 1
    case.refresh_from_db()
    assert case.escalation_level == 1 and [m.to for m in mailoutbox] == [["owner@example.com"]]
