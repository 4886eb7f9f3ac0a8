"""Realistic demo data: customers with Vietnamese and English names, three surveys, a year of responses.

Used by `manage.py seed_demo` (and by benchmarks that need many responses fast). Everything is bulk-inserted;
raw tokens of the generated (already answered) invitations are never kept, only random hashes.
"""

from __future__ import annotations

import json
import random
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from accounts.roles import QUALITY_MANAGER, STAFF
from audit.trail import audit_record_many
from customers.models import Customer
from surveys import building
from surveys.invitations import invitation_create, invitation_link, invitation_renew_link
from surveys.models import Answer, Campaign, Invitation, Response, Survey
from surveys.scoring import QuestionKind, SurveyKind

VN_FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
VN_MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Thanh", "Quang", "Hữu", "Đức", "Thu", "Gia", "Bảo", "Anh"]
VN_GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phong",
    "Phúc",
    "Quân",
    "Quỳnh",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Trung",
    "Tuấn",
    "Vy",
    "Yến",
]
EN_FIRST = [
    "Olivia",
    "James",
    "Emma",
    "William",
    "Sophie",
    "Daniel",
    "Grace",
    "Thomas",
    "Chloe",
    "Michael",
    "Hannah",
    "David",
    "Lucy",
    "Peter",
    "Sarah",
    "Andrew",
    "Laura",
    "Mark",
    "Emily",
    "John",
]
EN_LAST = [
    "Smith",
    "Brown",
    "Wilson",
    "Taylor",
    "Johnson",
    "White",
    "Martin",
    "Clarke",
    "Walker",
    "Hughes",
    "Wright",
    "Green",
    "Baker",
    "Hall",
    "Evans",
    "Turner",
]
SEGMENTS = ["retail", "sme", "enterprise", "public-sector"]

COMMENTS = {
    "good": {
        "vi": [
            "Nhân viên rất nhiệt tình và chuyên nghiệp.",
            "Giao hàng nhanh, đúng hẹn.",
            "Sản phẩm chất lượng tốt, tôi sẽ giới thiệu cho bạn bè.",
            "Hỗ trợ qua điện thoại rất nhanh.",
            "Quy trình đơn giản, dễ hiểu.",
        ],
        "en": [
            "Friendly and professional staff.",
            "Fast delivery, right on time.",
            "Great quality, I will recommend you to friends.",
            "The phone support was quick and helpful.",
            "Simple process, easy to follow.",
        ],
    },
    "ok": {
        "vi": [
            "Dịch vụ ổn nhưng thời gian chờ hơi lâu.",
            "Giá hơi cao so với thị trường.",
            "Ứng dụng cần cải thiện giao diện.",
            "Tạm được, không có gì đặc biệt.",
        ],
        "en": [
            "Service was fine but the wait was a bit long.",
            "A little expensive compared with others.",
            "The app could be easier to use.",
            "It was OK, nothing special.",
        ],
    },
    "bad": {
        "vi": [
            "Giao hàng trễ hơn một tuần mà không ai báo.",
            "Gọi tổng đài nhiều lần không ai nghe máy.",
            "Hóa đơn bị tính sai, phải khiếu nại hai lần.",
            "Sản phẩm bị lỗi ngay khi nhận.",
            "Nhân viên trả lời thiếu tôn trọng.",
        ],
        "en": [
            "Delivery was more than a week late and nobody told me.",
            "I called support several times and nobody answered.",
            "I was billed wrongly and had to complain twice.",
            "The product was faulty on arrival.",
            "The staff were rude to me.",
        ],
    },
}

DEMO_SURVEYS = [
    {
        "kind": SurveyKind.NPS,
        "title_en": "Relationship survey: would you recommend us?",
        "title_vi": "Khảo sát mức độ gắn bó: bạn có giới thiệu chúng tôi không?",
        "intro_en": "A few short questions, about two minutes. Your answer helps us improve.",
        "intro_vi": "Vài câu hỏi ngắn, khoảng hai phút. Câu trả lời của bạn giúp chúng tôi cải thiện.",
        "share": 0.5,
    },
    {
        "kind": SurveyKind.CSAT,
        "title_en": "How did our support team do?",
        "title_vi": "Bạn đánh giá đội hỗ trợ của chúng tôi thế nào?",
        "intro_en": "",
        "intro_vi": "",
        "share": 0.3,
    },
    {
        "kind": SurveyKind.CES,
        "title_en": "Getting started with us",
        "title_vi": "Trải nghiệm bắt đầu sử dụng dịch vụ",
        "intro_en": "",
        "intro_vi": "",
        "share": 0.2,
    },
]
# The relationship survey's attribute questions (1–5 ratings) and how strongly each follows the headline score: the
# known pattern the key-driver analysis must recover (delivery first, staff second, price hardly at all).
DEMO_ATTRIBUTES = [
    {"key": "delivery", "text_en": "How satisfied are you with the speed of delivery?",
     "text_vi": "Bạn hài lòng thế nào với tốc độ giao hàng?", "slope": 1.0, "mean": 3.3},
    {"key": "staff", "text_en": "How satisfied are you with our staff's attitude?",
     "text_vi": "Bạn hài lòng thế nào với thái độ của nhân viên?", "slope": 0.55, "mean": 3.9},
    {"key": "price", "text_en": "How satisfied are you with our prices?",
     "text_vi": "Bạn hài lòng thế nào với giá cả?", "slope": 0.1, "mean": 3.5},
]  # fmt: skip
DEMO_EXTERNAL_PREFIX = "DEMO-"
# Months back (0 = the current month) in which service went wrong: the dip the dashboards should show.
DIP_MONTHS_AGO = 5


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str


ADMINISTRATOR = "Administrator"


def _credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.json"


def ensure_users() -> list[DemoLogin]:
    """The demo quality manager and staff user. Passwords are random, made once and kept under var/ (not in git)."""
    path = _credentials_file()
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    logins = []
    for username, role, first, last in [
        ("quanly", QUALITY_MANAGER, "Lan", "Nguyễn"),
        ("nhanvien", STAFF, "Minh", "Trần"),
        # The administrator opens /admin/ (a superuser, hence also a quality manager in the app).
        ("quantri", ADMINISTRATOR, "Hùng", "Phạm"),
    ]:
        password = saved.get(username) or secrets.token_urlsafe(9)
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        if not user.check_password(password):
            user.set_password(password)
            user.save()
        if role == ADMINISTRATOR:
            if not user.is_superuser:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        else:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        saved[username] = password
        logins.append(DemoLogin(username, password, role))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved))
    path.chmod(0o600)
    return logins


def ensure_customers(count: int, rng: random.Random) -> list[Customer]:
    existing = set(
        Customer.objects.filter(external_id__startswith=DEMO_EXTERNAL_PREFIX).values_list("external_id", flat=True)
    )
    new = []
    for i in range(1, count + 1):
        external_id = f"{DEMO_EXTERNAL_PREFIX}{i:06d}"
        if external_id in existing:
            continue
        if rng.random() < 0.75:
            name = f"{rng.choice(VN_FAMILY)} {rng.choice(VN_MIDDLE)} {rng.choice(VN_GIVEN)}"
            language = "vi"
        else:
            name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            language = "en"
        email = f"{_ascii(name).replace(' ', '.')}.{i}@example.com"
        new.append(
            Customer(
                name=name,
                email=email,
                language=language,
                segment=rng.choice(SEGMENTS),
                customer_type=Customer.Type.DIRECT if rng.random() < 0.7 else Customer.Type.INDIRECT,
                external_id=external_id,
                phone=f"09{rng.randrange(10**7, 10**8)}",
            )
        )
    with transaction.atomic():
        Customer.objects.bulk_create(new, batch_size=2000)
        # On the trail like an import's customers, so that `audit_verify` finds no customer made off the record.
        audit_record_many(new, action="create")
    return list(Customer.objects.filter(external_id__startswith=DEMO_EXTERNAL_PREFIX).order_by("id"))


def ensure_surveys(owner: User) -> list[Survey]:
    surveys = []
    for spec in DEMO_SURVEYS:
        survey = Survey.objects.filter(title_en=spec["title_en"]).first()
        if survey is None:
            survey = building.survey_create(
                owner=owner,
                kind=spec["kind"],
                title_en=spec["title_en"],
                title_vi=spec["title_vi"],
                intro_en=spec["intro_en"],
                intro_vi=spec["intro_vi"],
            )
            if spec["kind"] == SurveyKind.NPS:
                for attribute in DEMO_ATTRIBUTES:
                    building.question_add(
                        version=survey.current_version,
                        kind=QuestionKind.RATING,
                        text_en=attribute["text_en"],
                        text_vi=attribute["text_vi"],
                        required=False,
                        scale_min=1,
                        scale_max=5,
                    )
            building.survey_activate(survey=survey)
        surveys.append(survey)
    return surveys


def _score(kind: str, bad: bool, rng: random.Random) -> int:
    """Scores drawn from shapes typical of each measure; in the dip month the bad tail is heavier."""
    r = rng.random()
    if kind == SurveyKind.NPS:
        promoters, detractors = (0.30, 0.42) if bad else (0.48, 0.20)
        if r < promoters:
            return rng.choice([9, 10, 10])
        if r < promoters + detractors:
            return rng.choice([2, 3, 4, 5, 5, 6, 6, 6])
        return rng.choice([7, 8, 8])
    if kind == SurveyKind.CSAT:
        weights = [0.10, 0.14, 0.20, 0.32, 0.24] if bad else [0.03, 0.05, 0.12, 0.40, 0.40]
        return rng.choices([1, 2, 3, 4, 5], weights)[0]
    weights = [0.10, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15] if bad else [0.30, 0.30, 0.15, 0.10, 0.07, 0.05, 0.03]
    return rng.choices([1, 2, 3, 4, 5, 6, 7], weights)[0]


def _mood(kind: str, score: int) -> str:
    if kind == SurveyKind.NPS:
        return "good" if score >= 9 else "ok" if score >= 7 else "bad"
    if kind == SurveyKind.CSAT:
        return "good" if score >= 4 else "ok" if score == 3 else "bad"
    return "good" if score <= 2 else "ok" if score <= 4 else "bad"


def _attribute_ratings(score: int, rng: random.Random) -> list[int]:
    """1–5 ratings that follow the NPS score by each attribute's slope, plus noise (see DEMO_ATTRIBUTES)."""
    z = (score - 7.0) / 2.5
    return [min(5, max(1, round(a["mean"] + a["slope"] * z + rng.gauss(0, 0.7)))) for a in DEMO_ATTRIBUTES]


def generate_responses(
    *,
    surveys: list[Survey],
    customers: list[Customer],
    total: int,
    rng: random.Random,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = 5000,
) -> int:
    """`total` answered invitations with responses over the last 12 months, in bulk. Returns how many."""
    now = now or timezone.now()
    start = now - timedelta(days=365)
    made = 0
    plan = []
    for survey, spec in zip(surveys, DEMO_SURVEYS, strict=True):
        questions = list(survey.current_version.questions.order_by("position"))
        plan.append((survey, questions, round(total * spec["share"])))
    plan[0] = (plan[0][0], plan[0][1], total - sum(p[2] for p in plan[1:]))
    for survey, questions, count in plan:
        headline, comment = questions[0], (questions[1] if len(questions) > 1 else None)
        attributes = [q for q in questions[2:] if q.kind == QuestionKind.RATING][: len(DEMO_ATTRIBUTES)]
        for offset in range(0, count, batch):
            size = min(batch, count - offset)
            rows = []
            for _ in range(size):
                # Volume grows a little over the year; timestamps spread over the day.
                when = start + timedelta(seconds=365 * 86400 * (rng.random() ** 0.9))
                months_ago = (now.year - when.year) * 12 + now.month - when.month
                rows.append((rng.choice(customers), when, months_ago == DIP_MONTHS_AGO))
            with transaction.atomic():
                invitations = Invitation.objects.bulk_create(
                    [
                        Invitation(
                            survey=survey,
                            customer=c,
                            token_hash=secrets.token_hex(32),
                            created_at=when - timedelta(hours=rng.randrange(1, 72)),
                            expires_at=when + timedelta(days=30),
                            sent_at=when - timedelta(hours=1),
                            last_sent_at=when - timedelta(hours=1),
                            opened_at=when,
                            answered_at=when,
                            status=Invitation.Status.ANSWERED,
                        )
                        for c, when, _bad in rows
                    ]
                )
                responses = Response.objects.bulk_create(
                    [
                        Response(
                            survey=survey,
                            version_id=survey.current_version_id,
                            invitation=inv,
                            customer=c,
                            language=c.language,
                            submitted_at=when,
                            segment=c.segment,
                            channel=Response.Channel.EMAIL,
                        )
                        for inv, (c, when, _bad) in zip(invitations, rows, strict=True)
                    ]
                )
                answers = []
                for response, (c, _when, bad) in zip(responses, rows, strict=True):
                    score = _score(survey.kind, bad, rng)
                    answers.append(Answer(response=response, question=headline, number=score))
                    if survey.kind == SurveyKind.NPS and len(attributes) == len(DEMO_ATTRIBUTES):
                        for question, rating in zip(attributes, _attribute_ratings(score, rng), strict=True):
                            answers.append(Answer(response=response, question=question, number=rating))
                    if comment is not None and comment.kind == QuestionKind.TEXT and rng.random() < 0.35:
                        text = rng.choice(COMMENTS[_mood(survey.kind, score)][c.language])
                        answers.append(Answer(response=response, question=comment, text=text))
                Answer.objects.bulk_create(answers)
            made += size
            if progress:
                progress(made)
    return made


def demo_link(survey: Survey, customer: Customer, created_by: User) -> str:
    """A fresh, unanswered link to try. The same invitation is reused across runs, with a new token each time."""
    invitation = (
        Invitation.objects.filter(
            survey=survey,
            customer=customer,
            answered_at__isnull=True,
            expires_at__gt=timezone.now(),
            sent_at__isnull=True,
        )
        .order_by("-created_at")
        .first()
    )
    if invitation is None:
        _invitation, token = invitation_create(survey=survey, customer=customer, created_by=created_by)
        return invitation_link(token)
    return invitation_link(invitation_renew_link(invitation=invitation))


# What a real campaign leaves besides answers: of every 100 invitations not answered, about this many are each.
UNANSWERED_SHARES = {"unopened": 0.47, "opened": 0.18, "bounced": 0.08, "expired_unopened": 0.27}
BOUNCES = [
    "550 5.1.1 <{email}>: Recipient address rejected: User unknown",
    "552 5.2.2 <{email}>: Mailbox full",
    "550 5.7.1 Message rejected as spam by the recipient's server",
]


def generate_delivery(
    *,
    surveys: list[Survey],
    customers: list[Customer],
    answered: int,
    created_by: User,
    rng: random.Random,
    rate: float = 0.42,
    now: datetime | None = None,
) -> int:
    """Invitations that were not answered (unopened, opened, bounced, expired), so that about `rate` of the sent
    invitations are answered, as in a real year; and a campaign holding the last month's NPS invitations, so the
    campaign funnel has something to show. Returns how many invitations were made."""
    now = now or timezone.now()
    start = now - timedelta(days=365)
    total = round(answered * (1 - rate) / rate)
    weights = list(UNANSWERED_SHARES.values())
    rows = []
    for _ in range(total):
        survey = rng.choices(surveys, [spec["share"] for spec in DEMO_SURVEYS])[0]
        customer = rng.choice(customers)
        created = start + timedelta(seconds=365 * 86400 * (rng.random() ** 0.9))
        expires = created + timedelta(days=30)
        fate = rng.choices(list(UNANSWERED_SHARES), weights)[0]
        if fate != "bounced" and expires <= now:
            fate = "expired"  # whatever happened, a link older than its validity has expired unanswered
        sent = None if fate == "bounced" else created + timedelta(minutes=rng.randrange(1, 30))
        opened = sent + timedelta(hours=rng.randrange(1, 96)) if fate == "opened" and sent else None
        status, reason = {
            "unopened": (Invitation.Status.SENT, ""),
            "expired_unopened": (Invitation.Status.SENT, ""),
            "opened": (Invitation.Status.OPENED, ""),
            "bounced": (Invitation.Status.FAILED, rng.choice(BOUNCES).format(email=customer.email)),
            "expired": (Invitation.Status.EXPIRED, ""),
        }[fate]
        rows.append(
            Invitation(
                survey=survey,
                customer=customer,
                token_hash=secrets.token_hex(32),
                created_at=created,
                expires_at=expires,
                sent_at=sent,
                last_sent_at=sent,
                opened_at=opened,
                status=status,
                status_reason=reason,
            )
        )
    with transaction.atomic():
        Invitation.objects.bulk_create(rows, batch_size=5000)
        nps = surveys[0]
        month_ago = now - timedelta(days=30)
        campaign = Campaign.objects.create(
            survey=nps,
            name="NPS tháng này",
            created_by=created_by,
            created_at=month_ago,
            send_at=month_ago,
            started_at=month_ago,
            finished_at=month_ago + timedelta(minutes=5),
            status=Campaign.Status.SENT,
            remind_after_days=7,
        )
        Invitation.objects.filter(survey=nps, campaign__isnull=True, created_at__gte=month_ago).update(
            campaign=campaign
        )
    return total
