"""Demo complaint cases and a corrective action, on top of surveys.demo's responses (used by seed_demo)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from audit.trail import audit_record, audit_stored
from customers.models import Customer
from feedback import corrective, loop, workflow
from feedback.models import CaseEvent, CaseStatus, Category, ComplaintCase
from surveys.models import Response, Survey

S = CaseStatus
PHONE_COMPLAINTS = [
    ("Giao hàng", "Đơn hàng giao trễ 4 ngày so với hẹn, không ai gọi báo.", "Hoàn phí giao hàng"),
    ("Hóa đơn và thanh toán", "Bị trừ tiền hai lần cho cùng một hóa đơn tháng này.", "Hoàn lại khoản trừ thừa"),
    ("Chất lượng sản phẩm", "Máy lọc nước rò rỉ sau một tuần sử dụng.", "Đổi máy mới"),
    ("Thái độ phục vụ", "Nhân viên quầy trả lời cộc lốc khi tôi hỏi về bảo hành.", "Một lời xin lỗi"),
    ("Hỗ trợ kỹ thuật", "Gọi tổng đài ba lần chưa ai xử lý lỗi mất mạng.", "Sửa lỗi trong hôm nay"),
]


def _backdate(case: ComplaintCase, when) -> None:  # type: ignore[no-untyped-def]
    # Demo data only: a history spread over months. Even this goes on the record, so `audit_verify` holds.
    before = audit_stored(case)
    shift = case.received_at - when
    case.received_at = when
    workflow._set_due_dates(case)
    for field in ("acknowledged_at", "responded_at", "closed_at"):
        if getattr(case, field):
            setattr(case, field, getattr(case, field) - shift)
    case.save()
    audit_record(case, action="update", before=before, reason="Demo data: dates moved into the past")
    for event in case.events.all():
        CaseEvent.objects.filter(pk=event.pk).update(at=event.at - shift)


def _progress(case: ComplaintCase, actor: User, steps: int, rng: random.Random) -> None:
    path = [
        (S.ACKNOWLEDGED, {}),
        (S.INVESTIGATING, {"note": "Đã liên hệ bộ phận liên quan."}),
        (S.RESPONDED, {"message": "Chúng tôi xin lỗi vì sự bất tiện và đã khắc phục sự cố."}),
        (S.CLOSED, {"customer_accepted": rng.random() < 0.8, "resolution": "Đã khắc phục và xin lỗi khách."}),
    ]
    for status, extra in path[:steps]:
        workflow.case_transition(case=case, to_status=status, actor=actor, **extra)


# Demo customers have example.com addresses: their acknowledgements are not worth writing to var/mail.
@override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
def seed_feedback(*, manager: User, staff: User, rng: random.Random) -> int:
    """Cases from recent detractor answers and phone calls, in every state; one corrective action. Idempotent."""
    if ComplaintCase.objects.exists():
        return 0
    now = timezone.now()
    made = 0
    nps = Survey.objects.filter(kind="nps").order_by("id").first()
    recent = (
        Response.objects.filter(survey=nps, submitted_at__gte=now - timedelta(days=45))
        .filter(answers__number__lte=6, answers__question__kind="nps")
        .order_by("-submitted_at")[:30]
    )
    for response in recent:
        with transaction.atomic():
            if loop.case_from_response(response.pk) != "created":
                continue
            case = ComplaintCase.objects.get(response=response)
            age_days = (now - response.submitted_at).days
            _progress(case, staff, 4 if age_days > 30 else 2 if age_days > 7 else rng.choice([0, 1]), rng)
            case.refresh_from_db()
            _backdate(case, response.submitted_at)
            made += 1
    categories = {c.name_vi: c for c in Category.objects.all()}
    customers = list(Customer.objects.order_by("?")[:20])
    for i in range(25):
        name, text, remedy = PHONE_COMPLAINTS[i % len(PHONE_COMPLAINTS)]
        with transaction.atomic():
            case = workflow.case_create(
                channel=rng.choice(["phone", "email", "in_person"]),
                description=text,
                remedy_sought=remedy,
                customer=customers[i % len(customers)],
                category=categories.get(name),
                severity=rng.choice(["low", "medium", "medium", "high"]),
                actor=staff,
                assignee=staff if i % 3 else manager,
            )
            received = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
            age = (now - received).days
            _progress(case, staff, 4 if age > 40 else 3 if age > 20 else rng.choice([0, 1, 2]), rng)
            case.refresh_from_db()
            _backdate(case, received)
            made += 1
    delivery = categories.get("Giao hàng")
    late = list(ComplaintCase.objects.filter(category=delivery, status=S.CLOSED)[:3])
    action = corrective.action_create(
        title="Giao hàng trễ hẹn lặp lại",
        owner=manager,
        cases=late,
        category=delivery,
        survey=nps,
        nonconformity="Nhiều khiếu nại giao hàng trễ hơn 3 ngày trong cùng tháng; điểm NPS giảm rõ rệt.",
    )
    corrective.action_record_containment(action=action, containment="Giao bù bằng xe riêng cho các đơn trễ.")
    corrective.action_decide(action=action, needed=True, reason="Sự cố lặp lại ở nhiều khu vực.")
    corrective.action_record_root_cause(
        action=action,
        method="5why",
        root_cause="Thiếu tài xế ca chiều sau khi đổi nhà thầu vận chuyển.",
        analysis={
            "whys": [
                {"why": "Vì sao đơn giao trễ?", "because": "Xe rời kho sau 16 giờ."},
                {"why": "Vì sao xe rời kho muộn?", "because": "Ca chiều thiếu tài xế."},
                {"why": "Vì sao thiếu tài xế?", "because": "Nhà thầu mới không bố trí đủ người ca chiều."},
            ]
        },
        similar_possible=True,
        similar="Có thể xảy ra ở kho Đà Nẵng.",
        update_risks=True,
        qms_change=False,
    )
    item = corrective.item_add(
        action=action,
        description="Ký hợp đồng bổ sung tài xế ca chiều",
        owner=staff,
        due_date=date.today() + timedelta(days=10),
    )
    corrective.item_add(
        action=action,
        description="Theo dõi đơn trễ hằng ngày",
        owner=manager,
        due_date=date.today() - timedelta(days=3),
    )
    corrective.item_set_status(item=item, status="done")
    corrective.action_update(action=action, effective_from=(now - timedelta(days=120)).date())
    return made
