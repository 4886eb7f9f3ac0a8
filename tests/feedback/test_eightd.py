"""The 8D report of a corrective action, as a PDF in the reader's language (read back with pypdf)."""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from feedback import corrective, evidence

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.content))
    # pypdf may break lines anywhere: compare without line breaks.
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def action(qm):
    action = corrective.action_create(title="Giao hàng trễ", nonconformity="30 đơn trễ trong tháng 11", owner=qm)
    corrective.action_record_containment(action=action, containment="Giao bù bằng xe riêng")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại")
    corrective.action_record_root_cause(
        action=action,
        root_cause="",
        method="5why",
        analysis={
            "whys": [
                {"why": "Vì sao đơn trễ?", "because": "Xe rời kho muộn"},
                {"why": "Vì sao xe rời kho muộn?", "because": "Thiếu tài xế ca chiều"},
                {"why": "Vì sao thiếu tài xế?", "because": "Nhà thầu mới thiếu người"},
            ]
        },
        similar_possible=True,
        similar="Kho Đà Nẵng",
        update_risks=True,
        qms_change=False,
    )
    corrective.item_add(action=action, description="Thuê thêm tài xế", owner=qm, due_date=date(2026, 12, 31))
    evidence.evidence_add(
        action=action,
        step="investigation",
        upload=SimpleUploadedFile("bien-ban.pdf", b"%PDF-1.4\n%%EOF\n"),
        uploaded_by=qm,
    )
    return action


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "vi",
            ["Báo cáo 8D — CA-", "D1 Nhóm", "D3 Ngăn chặn tạm thời", "Giao bù bằng xe riêng",
             "D4 Nguyên nhân gốc", "Phương pháp: 5 câu hỏi tại sao", "Vì sao thiếu tài xế?", "Nhà thầu mới thiếu người",
             "ở nơi khác không? Có. Kho Đà Nẵng", "D5 Các hành động khắc phục", "Thuê thêm tài xế", "31/12/2026",
             "bien-ban.pdf", "D8 Kết thúc"],
        ),
        (
            "en",
            ["8D report — CA-", "D1 Team", "D3 Interim containment", "Giao bù bằng xe riêng", "D4 Root cause",
             "Method: 5 whys", "Vì sao thiếu tài xế?", "occur elsewhere? Yes. Kho Đà Nẵng",
             "D5 Permanent corrective actions chosen", "Thuê thêm tài xế", "bien-ban.pdf", "D8 Closure"],
        ),
    ],
)  # fmt: skip
def test_the_8d_report_reads_in_the_readers_language(staff_client, action, language, expected):
    text = pdf_text(staff_client.get(reverse("action_8d_pdf", args=[action.reference]), HTTP_ACCEPT_LANGUAGE=language))
    for phrase in expected:
        assert phrase in text, phrase


def test_an_8d_action_shows_its_written_disciplines(qm_client, qm):
    action = corrective.action_create(title="Sai hoá đơn", nonconformity="Hoá đơn sai thuế", owner=qm)
    corrective.action_record_containment(action=action, containment="Xuất lại hoá đơn")
    corrective.action_decide(action=action, needed=True, reason="Ảnh hưởng nhiều khách")
    corrective.action_record_root_cause(
        action=action,
        root_cause="Bảng thuế chưa cập nhật",
        method="8d",
        analysis={"d1": "Lan, Minh, kế toán", "d2": "12 hoá đơn sai thuế suất tháng 10", "d7": "Kiểm tra bảng thuế"},
        similar_possible=False,
        similar="",
        update_risks=False,
        qms_change=True,
    )
    text = pdf_text(qm_client.get(reverse("action_8d_pdf", args=[action.reference]), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Lan, Minh, kế toán" in text and "12 hoá đơn sai thuế suất tháng 10" in text
    assert "Kiểm tra bảng thuế" in text and "occur elsewhere? No." in text
    assert "Change to the quality management system needed: Yes." in text


def test_the_page_links_the_report(staff_client, action):
    html = staff_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert reverse("action_8d_pdf", args=[action.reference]) in html


def test_a_report_of_an_action_just_raised_is_drawn(qm_client, qm):
    action = corrective.action_create(title="Mới", nonconformity="<b>markup</b> & text", owner=qm)
    text = pdf_text(qm_client.get(reverse("action_8d_pdf", args=[action.reference])))
    assert "<b>markup</b> & text" in text and "D8" in text
