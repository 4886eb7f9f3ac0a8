"""A quality manager works a corrective action through its root cause in the browser: the five whys as a chain,
the similar-nonconformities question, an evidence file uploaded and downloaded, and the 8D report as a PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from feedback import corrective
from feedback.models import ActionEvidence, CorrectiveAction
from tests.e2e.test_feedback_journey import login
from tests.factories import quality_manager

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def test_root_cause_by_five_whys_with_evidence_and_the_8d_report(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    manager = quality_manager(username="lan", first_name="Lan", last_name="Nguyễn")
    action = corrective.action_create(title="Giao hàng trễ", nonconformity="30 đơn trễ trong tháng 11", owner=manager)
    corrective.action_record_containment(action=action, containment="Giao bù bằng xe riêng")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại ở nhiều đơn")

    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    login(page, base, "lan")
    page.goto(f"{base}/actions/{action.reference}/")

    # Choosing the five whys shows the chain and hides the other methods' fields.
    page.locator("#method").select_option("5why")
    assert page.locator("#why_1").is_visible() and not page.locator("#fish_people").is_visible()
    chain = [
        ("Vì sao đơn giao trễ?", "Xe rời kho sau 16 giờ"),
        ("Vì sao xe rời kho muộn?", "Ca chiều thiếu tài xế"),
        ("Vì sao thiếu tài xế?", "Nhà thầu mới không đủ người"),
    ]
    for i, (why, because) in enumerate(chain, start=1):
        page.locator(f"#why_{i}").fill(why)
        page.locator(f"#because_{i}").fill(because)
    # Saved without answering the similar-nonconformities question: refused, with the reason.
    page.get_by_role("button", name="Lưu nguyên nhân gốc").click()
    assert page.get_by_text("Hãy trả lời câu hỏi “Sự không phù hợp tương tự").is_visible()
    assert CorrectiveAction.objects.get().analysed_at is None
    # What was typed is shown again, not lost.
    assert page.locator("#method").input_value() == "5why"
    assert page.locator("#why_3").input_value() == "Vì sao thiếu tài xế?"
    assert page.locator("#because_3").input_value() == "Nhà thầu mới không đủ người"
    page.locator("#similar-yes").check()
    page.locator("#similar").fill("Kho Đà Nẵng dùng cùng nhà thầu")
    page.get_by_role("button", name="Lưu nguyên nhân gốc").click()
    assert page.get_by_test_id("action-status").inner_text() == "Đã tìm ra nguyên nhân gốc"
    assert "Vì sao thiếu tài xế? → Bởi vì Nhà thầu mới không đủ người" in page.get_by_test_id("whys").inner_text()
    assert "Có" in page.get_by_test_id("similar-answer").inner_text()

    # An evidence photo for the investigation, then downloaded back through the access-checked link.
    page.locator("#file-investigation").set_input_files(
        files=[{"name": "kho-ha-noi.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    page.locator("#desc-investigation").fill("Bảng phân ca tháng 11")
    page.get_by_test_id("evidence-investigation").get_by_role("button", name="Tải lên").click()
    assert page.get_by_text("Đã thêm tệp bằng chứng.").is_visible()
    assert ActionEvidence.objects.get().content_type == "image/png"
    with page.expect_download() as got:
        page.get_by_role("link", name="kho-ha-noi.png").click()
    assert got.value.suggested_filename == "kho-ha-noi.png"
    assert Path(got.value.path()).read_bytes() == PHOTO

    # The 8D report, in Vietnamese like the page.
    with page.expect_download() as got:
        page.get_by_test_id("action-8d").click()
    text = " ".join(PdfReader(io.BytesIO(Path(got.value.path()).read_bytes())).pages[0].extract_text().split())
    assert f"Báo cáo 8D — {action.reference}" in text
    assert "Vì sao xe rời kho muộn?" in text and "Nhà thầu mới không đủ người" in text
    assert "Giao bù bằng xe riêng" in text and "kho-ha-noi.png" in text
