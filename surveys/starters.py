"""Surveys to start from: four common designs, each question written in both languages.

The questions are data (a customer reads them in their own language), so they are written here in Vietnamese and
English side by side, as scoring.py's default questions are; only the starters' names, read by the quality
manager, go through the message catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from surveys import building
from surveys.models import Survey
from surveys.scoring import QuestionKind, SurveyKind


@dataclass(frozen=True)
class Starter:
    key: str
    name: str | Promise
    description: str | Promise
    kind: str
    title: dict[str, str]
    intro: dict[str, str]
    # Each: kind, vi, en, and optionally required, choices [(vi, en)], scale (low, high), show_if (low, high).
    questions: list[dict[str, Any]] = field(default_factory=list)


STARTERS = [
    Starter(
        key="relationship-nps",
        name=_("Relationship NPS"),
        description=_("Once or twice a year, to every active customer: would they recommend you, and why."),
        kind=SurveyKind.NPS,
        title={"vi": "Khảo sát mức độ sẵn lòng giới thiệu", "en": "How likely are you to recommend us?"},
        intro={
            "vi": "Chỉ mất một phút. Ý kiến của bạn giúp chúng tôi phục vụ tốt hơn.",
            "en": "It takes a minute. What you tell us helps us serve you better.",
        },
        questions=[
            {
                "kind": QuestionKind.NPS,
                "vi": "Bạn có sẵn lòng giới thiệu chúng tôi với bạn bè hoặc đồng nghiệp không?",
                "en": "How likely are you to recommend us to a friend or colleague?",
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Chúng tôi nên cải thiện điều gì?",
                "en": "What should we improve?",
                "required": False,
                "show_if": (0, 6),
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Điều gì sẽ khiến bạn chấm 10 điểm?",
                "en": "What would make it a 10?",
                "required": False,
                "show_if": (7, 8),
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Bạn thích điều gì nhất?",
                "en": "What did you like most?",
                "required": False,
                "show_if": (9, 10),
            },
            {
                "kind": QuestionKind.SINGLE,
                "vi": "Điều gì quan trọng nhất với bạn?",
                "en": "What matters most to you?",
                "required": False,
                "choices": [
                    ("Chất lượng sản phẩm", "Product quality"),
                    ("Giao hàng đúng hẹn", "On-time delivery"),
                    ("Giá cả", "Price"),
                    ("Chăm sóc khách hàng", "Customer care"),
                ],
            },
        ],
    ),
    Starter(
        key="csat-support",
        name=_("CSAT after a support case"),
        description=_("Sent when a support request is closed: satisfaction with how it was handled."),
        kind=SurveyKind.CSAT,
        title={"vi": "Đánh giá lần hỗ trợ vừa qua", "en": "Your recent support request"},
        intro={
            "vi": "Yêu cầu hỗ trợ của bạn vừa được xử lý xong. Bạn thấy thế nào?",
            "en": "Your support request was just closed. How did we do?",
        },
        questions=[
            {
                "kind": QuestionKind.CSAT,
                "vi": "Bạn hài lòng thế nào với cách chúng tôi xử lý yêu cầu của bạn?",
                "en": "How satisfied are you with how we handled your request?",
            },
            {
                "kind": QuestionKind.SINGLE,
                "vi": "Vấn đề của bạn đã được giải quyết chưa?",
                "en": "Was your issue resolved?",
                "choices": [("Đã giải quyết", "Yes"), ("Giải quyết một phần", "Partly"), ("Chưa", "No")],
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Điều gì chưa được như mong đợi?",
                "en": "What fell short of what you expected?",
                "required": False,
                "show_if": (1, 3),
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Bạn có muốn nói thêm điều gì không?",
                "en": "Anything else you would like to tell us?",
                "required": False,
            },
        ],
    ),
    Starter(
        key="ces-onboarding",
        name=_("CES after onboarding"),
        description=_("A few weeks after a customer starts: how easy it was to get going."),
        kind=SurveyKind.CES,
        title={"vi": "Bắt đầu sử dụng dịch vụ", "en": "Getting started with us"},
        intro={
            "vi": "Bạn vừa bắt đầu sử dụng dịch vụ của chúng tôi. Hãy cho chúng tôi biết trải nghiệm của bạn.",
            "en": "You have just started with our service. Tell us how it went.",
        },
        questions=[
            {
                "kind": QuestionKind.CES,
                "vi": "Việc bắt đầu sử dụng dịch vụ của chúng tôi dễ dàng thế nào?",
                "en": "How easy was it to get started with our service?",
            },
            {
                "kind": QuestionKind.MULTI,
                "vi": "Bước nào gây khó khăn cho bạn?",
                "en": "Which steps were hard?",
                "required": False,
                "show_if": (4, 7),
                "choices": [
                    ("Đăng ký", "Signing up"),
                    ("Cài đặt", "Setting up"),
                    ("Hướng dẫn sử dụng", "Training"),
                    ("Giấy tờ, hợp đồng", "Paperwork"),
                    ("Liên hệ hỗ trợ", "Reaching support"),
                ],
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Chúng tôi có thể làm gì để việc bắt đầu dễ hơn?",
                "en": "What could we do to make starting easier?",
                "required": False,
            },
        ],
    ),
    Starter(
        key="complaint-handling",
        name=_("Complaint handling (ISO 10002)"),
        description=_("Sent when a complaint is closed: was it handled fairly, clearly and in good time."),
        kind=SurveyKind.CSAT,
        title={"vi": "Đánh giá việc xử lý khiếu nại", "en": "How we handled your complaint"},
        intro={
            "vi": "Khiếu nại của bạn vừa được đóng. Ý kiến của bạn giúp chúng tôi xử lý khiếu nại tốt hơn.",
            "en": "Your complaint was just closed. Your view helps us handle complaints better.",
        },
        questions=[
            {
                "kind": QuestionKind.CSAT,
                "vi": "Bạn hài lòng thế nào với cách chúng tôi xử lý khiếu nại của bạn?",
                "en": "How satisfied are you with how we handled your complaint?",
            },
            {
                "kind": QuestionKind.RATING,
                "vi": "Chúng tôi thông báo tiến độ cho bạn tốt đến mức nào?",
                "en": "How well did we keep you informed?",
                "scale": (1, 5),
            },
            {
                "kind": QuestionKind.RATING,
                "vi": "Thời gian xử lý có hợp lý không?",
                "en": "Was the time we took reasonable?",
                "scale": (1, 5),
            },
            {
                "kind": QuestionKind.SINGLE,
                "vi": "Bạn thấy kết quả giải quyết có công bằng không?",
                "en": "Was the outcome fair?",
                "choices": [("Có", "Yes"), ("Một phần", "Partly"), ("Không", "No")],
            },
            {
                "kind": QuestionKind.TEXT,
                "vi": "Lẽ ra chúng tôi nên làm khác đi điều gì?",
                "en": "What should we have done differently?",
                "required": False,
            },
        ],
    ),
]
BY_KEY = {starter.key: starter for starter in STARTERS}


@transaction.atomic
def survey_create_from_starter(*, owner: AbstractBaseUser, key: str) -> Survey:
    """A draft survey with the starter's questions, through the builder's own functions (so its rules apply)."""
    starter = BY_KEY[key]
    survey = building.survey_create(
        owner=owner,
        kind=starter.kind,
        title_en=starter.title["en"],
        title_vi=starter.title["vi"],
        intro_en=starter.intro["en"],
        intro_vi=starter.intro["vi"],
        with_comment=False,
    )
    version = survey.current_version
    assert version is not None
    for default in list(version.questions.all()):  # the starter's own headline replaces the default one
        building.question_delete(question=default)
    for spec in starter.questions:
        low, high = spec.get("show_if", (None, None))
        scale = spec.get("scale", (None, None))
        building.question_add(
            version=version,
            kind=spec["kind"],
            text_vi=spec["vi"],
            text_en=spec["en"],
            required=spec.get("required", True),
            choices=[{"vi": vi, "en": en} for vi, en in spec.get("choices", [])],
            scale_min=scale[0],
            scale_max=scale[1],
            show_if_min=low,
            show_if_max=high,
        )
    return survey
