"""Item 4: after erasure, nothing of the customer is left in any copy; scores stay; concurrent erasures make one."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from audit.verify import record_breaks
from customers.models import Customer, ErasureRecord
from customers.services import customer_erase
from feedback import corrective, workflow
from feedback.models import CaseEvent, ComplaintCase, CorrectiveAction
from outbox.dispatch import outbox_add
from outbox.models import OutboxMessage
from reports.exports import export_create, export_dir, export_run
from reports.models import ExportJob
from surveys.models import Answer
from tests.factories import CustomerFactory, make_invitation, make_survey, quality_manager, staff_user
from tests.helpers import require

COMMENT = "Nhân viên Bảo ở quầy 3 nói tôi nợ 2 triệu"
EMAIL = "hoa.tran@example.com"
NAME = "Trần Thị Hoa"


def _everything_about_a_customer(django_capture_on_commit_callbacks):
    customer = CustomerFactory(name=NAME, email=EMAIL, phone="0912345678")
    survey = make_survey(kind="nps")
    invitation, token = make_invitation(survey=survey, customer=customer)
    score, comment = survey.current_version.questions.order_by("position")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("respond", args=[token]), {f"q{score.pk}": "1", f"q{comment.pk}": COMMENT})
    case = ComplaintCase.objects.get(customer=customer)
    staff = staff_user()
    workflow.case_assign(case=case, assignee=staff, actor=survey.owner)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_add_note(case=case, actor=staff, text=f"Đã gọi {NAME}: “{COMMENT}”")
        workflow.case_update(case=case, actor=staff, contact_phone="0912345678")
    workflow.case_message_customer(case=case, actor=staff, text=f"Chào {NAME}, về “{COMMENT}”: chúng tôi xin lỗi")
    action = corrective.action_create(title=COMMENT[:80], nonconformity=f"{NAME}: {COMMENT}", owner=survey.owner,
                                      cases=[case])  # fmt: skip
    # Its root-cause analysis can quote the customer too (the whys written from the case's words).
    action = corrective.action_record_containment(action=action, containment="Gọi lại khách")
    action = corrective.action_decide(action=action, needed=True, reason="Lặp lại nhiều lần")
    whys = [{"why": f"Vì sao {NAME} nhận hàng trễ?", "because": "Xe rời kho muộn"},
            {"why": "Vì sao xe rời kho muộn?", "because": "Thiếu tài xế"},
            {"why": "Vì sao thiếu tài xế?", "because": "Nhà thầu mới không đủ người"}]  # fmt: skip
    corrective.action_record_root_cause(action=action, root_cause="", method="5why", analysis={"whys": whys},
                                        similar_possible=False, similar="", update_risks=False,
                                        qms_change=False)  # fmt: skip
    job = export_create(user=survey.owner, survey=survey, start=date(2000, 1, 1), end=date(2100, 1, 1), segment="",
                        fmt="csv", language="vi")  # fmt: skip
    export_run(job.pk)
    return customer, case, ExportJob.objects.get(pk=job.pk)


ANALYSIS = "root_cause_analysis"


@pytest.mark.django_db
def test_erasure_leaves_no_copy_in_cases_timelines_email_logs_history_or_exports(
    django_capture_on_commit_callbacks, mailoutbox
):
    customer, case, job = _everything_about_a_customer(django_capture_on_commit_callbacks)
    path = export_dir() / job.file_name
    assert COMMENT in case.description and path.exists()
    assert CaseEvent.objects.filter(case=case, text__contains=EMAIL).exists()  # "acknowledgement → address"
    # The queued message names its timeline line, not its text.
    queued = OutboxMessage.objects.get(task="feedback.tasks.send_customer_message")
    assert COMMENT not in json.dumps(queued.args, ensure_ascii=False)
    # A row queued before that (its text in the arguments) and one whose mail server refused the address.
    outbox_add(task="feedback.tasks.send_customer_message", args=[case.pk, f"Chào {NAME}: {COMMENT}", None])
    refused = outbox_add(task="feedback.tasks.send_acknowledgement", args=[case.pk])
    OutboxMessage.objects.filter(pk=refused.pk).update(state="failed", last_error=f"550 5.1.1 <{EMAIL}>: no such user")

    customer_erase(customer=customer, actor=quality_manager(), reason="Email của khách ngày 3/5")

    needles = (COMMENT, EMAIL, NAME, "0912345678")
    case.refresh_from_db()
    rows = [
        (case.description, case.contact_name, case.contact_email, case.contact_phone, case.remedy_sought),
        *CaseEvent.objects.filter(case=case).values_list("text"),
        *ComplaintCase.history.filter(id=case.pk).values_list(
            "description", "contact_name", "contact_email", "contact_phone"
        ),
        *Answer.objects.filter(response__customer=customer).values_list("text"),
        *(
            (json.dumps(args, ensure_ascii=False), error)
            for args, error in OutboxMessage.objects.values_list("args", "last_error")
        ),
        *CorrectiveAction.objects.values_list("title", "nonconformity"),
        *CorrectiveAction.history.values_list("title", "nonconformity"),
        *(
            (json.dumps(a, ensure_ascii=False),)
            for a in CorrectiveAction.objects.values_list("root_cause_analysis", flat=True)
        ),
        *(
            (json.dumps(a, ensure_ascii=False),)
            for a in CorrectiveAction.history.values_list("root_cause_analysis", flat=True)
        ),
        # The audit trail (append-only) keeps personal fields and free text that can quote a customer as digests:
        # the corrective action's too (its title and nonconformity start as the case's words; they were kept in
        # clear, in its entries' changes and label, where no erasure could reach them).
        *(
            (json.dumps(changes, ensure_ascii=False), label)
            for changes, label in AuditEntry.objects.values_list("changes", "record_label")
        ),
    ]
    for row in rows:
        for value in row:
            assert not any(needle.lower() in (value or "").lower() for needle in needles), value
    assert not path.exists() and not ExportJob.objects.filter(pk=job.pk).exists()
    # The redaction is on the trail: a lawful erasure is not reported as the action changed outside it.
    assert AuditEntry.objects.filter(record_type="feedback.correctiveaction", action="erase").count() == 1
    assert record_breaks() == []
    # The scores stay, anonymous, and the case stays a quality record.
    assert Answer.objects.get(response__customer=customer, number__isnull=False).number == 1
    assert ComplaintCase.objects.filter(pk=case.pk).exists()
    assert OutboxMessage.objects.get(pk=refused.pk).last_error.startswith("550 5.1.1 <")  # the rest stays readable
    # Staff see it erased on the case page too.
    client = Client()
    client.force_login(case.assignee)
    page = client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert COMMENT not in page and EMAIL not in page


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_erasures_of_one_customer_make_one_record():
    require(connection.vendor == "postgresql", "needs PostgreSQL (row locks between connections)")
    customer = CustomerFactory(name=NAME, email=EMAIL)
    actor = quality_manager()
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def erase() -> None:
        from django.core.exceptions import ValidationError
        from django.db import IntegrityError, connections

        barrier.wait()
        try:
            customer_erase(customer=Customer.objects.get(pk=customer.pk), actor=actor, reason="Yêu cầu qua email")
            outcomes.append("erased")
        except (ValidationError, IntegrityError):
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=erase) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["erased"] + ["refused"] * 9
    assert ErasureRecord.objects.filter(customer=customer).count() == 1
