"""Evidence files on a corrective action: limits, type sniffing, access, and the record kept (ISO 9001 10.2.2)."""

import io
import zipfile
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from feedback import corrective
from feedback.models import ActionEvidence
from tests.factories import UserFactory, staff_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def office(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = office({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
DOCM = office({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", "word/vbaProject.bin": b"x"})
ODT = office({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})


@pytest.fixture
def action(qm):
    action = corrective.action_create(title="Giao trễ", nonconformity="Nhiều đơn trễ", owner=qm)
    corrective.action_record_containment(action=action, containment="Giao bù")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại")
    return action


def upload(client, action, name, data, step="investigation", language="vi", **extra):
    return client.post(
        reverse("evidence_upload", args=[action.reference]),
        {"step": step, "file": SimpleUploadedFile(name, data), "description": "Ảnh kho", **extra},
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    )


def test_an_upload_is_kept_with_the_action_and_downloaded_as_an_attachment(qm_client, staff_client, action, settings):
    page = upload(qm_client, action, "biên bản kho.pdf", PDF)
    assert "Đã thêm tệp bằng chứng." in page.content.decode()
    evidence = ActionEvidence.objects.get()
    assert evidence.content_type == "application/pdf" and evidence.size == len(PDF)
    assert evidence.name == "biên bản kho.pdf" and evidence.step == "investigation"
    # Stored under MEDIA_ROOT with a random name, not the uploader's.
    assert evidence.file.name.startswith(f"evidence/{action.reference}/") and "biên" not in evidence.file.name
    assert (settings.MEDIA_ROOT / evidence.file.name).read_bytes() == PDF
    entry = AuditEntry.objects.get(record_type="feedback.actionevidence")
    assert entry.action == "upload" and entry.changes["sha256"][1] == evidence.sha256
    html = page.content.decode()
    assert "biên bản kho.pdf" in html and reverse("evidence_download", args=[action.reference, evidence.pk]) in html
    # Any staff member who may see the action downloads it, as an attachment, never rendered.
    response = staff_client.get(reverse("evidence_download", args=[action.reference, evidence.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("anh.png", PNG, "image/png"),
        ("anh.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
        ("bao-cao.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("bao-cao.odt", ODT, "application/vnd.oasis.opendocument.text"),
        ("ghi-chu.txt", "Kiểm tra kho ngày 3/11\n".encode(), "text/plain"),
    ],
)
def test_accepted_types_are_recognised_by_their_content(qm_client, action, name, data, content_type):
    upload(qm_client, action, name, data)
    assert ActionEvidence.objects.get().content_type == content_type


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("report.pdf", b"<html><script>alert(1)</script></html>"),  # a page named as a PDF
        ("anh.pdf", PNG),  # an image named as a PDF: the name and the content disagree
        ("bao-cao.docm", DOCM),
        ("bao-cao.docx", DOCM),  # macros inside, whatever the name
        ("ve.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
        ("ve.txt", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
        ("chuong-trinh.exe", b"MZ\x90\x00" + b"\x00" * 32),
        ("du-lieu.txt", b"abc\x00def"),
        ("hong.docx", b"PK\x03\x04not a zip"),
    ],
)
def test_other_types_are_refused_with_a_translated_message(qm_client, action, name, data):
    page = upload(qm_client, action, name, data)
    assert "Loại tệp này không được chấp nhận" in page.content.decode()
    page = upload(qm_client, action, name, data, language="en")
    assert "This type of file is not accepted" in page.content.decode()
    assert not ActionEvidence.objects.exists() and not AuditEntry.objects.filter(action="upload").exists()


def test_a_file_over_the_limit_is_refused_in_both_languages(qm_client, action, settings):
    settings.EVIDENCE_MAX_BYTES = 2 * 1024 * 1024
    big = PDF + b"0" * (2 * 1024 * 1024)
    assert "Tệp quá lớn: tối đa 2 MB." in upload(qm_client, action, "lon.pdf", big).content.decode()
    assert (
        "The file is too big: at most 2 MB."
        in upload(qm_client, action, "lon.pdf", big, language="en").content.decode()
    )
    assert not ActionEvidence.objects.exists()
    assert not list((settings.MEDIA_ROOT).glob("**/*.pdf")) if settings.MEDIA_ROOT.exists() else True


def test_each_step_takes_evidence_only_once_it_has_begun(qm_client, qm):
    fresh = corrective.action_create(title="Mới", nonconformity="x", owner=qm)
    page = upload(qm_client, fresh, "a.pdf", PDF, language="en")
    assert "Evidence for this step can be added once the step has begun." in page.content.decode()
    corrective.action_record_containment(action=fresh, containment="c")
    corrective.action_decide(action=fresh, needed=True, reason="r")
    upload(qm_client, fresh, "a.pdf", PDF, step="effectiveness")
    assert not ActionEvidence.objects.exists()  # no actions planned yet
    corrective.action_record_root_cause(
        action=fresh, root_cause="rc", method="other", similar_possible=False, similar="", update_risks=False,
        qms_change=False,
    )  # fmt: skip
    corrective.item_add(action=fresh, description="d", owner=qm, due_date=date.today() + timedelta(days=3))
    upload(qm_client, fresh, "a.pdf", PDF, step="effectiveness")
    assert ActionEvidence.objects.get().step == "effectiveness"


def test_a_closed_action_takes_no_new_evidence_and_keeps_the_old(qm_client, qm):
    action = corrective.action_create(title="Đóng", nonconformity="x", owner=qm)
    corrective.action_record_containment(action=action, containment="c")
    corrective.action_decide(action=action, needed=True, reason="r")
    upload(qm_client, action, "a.pdf", PDF)
    corrective.action_decide(action=action, needed=False, reason="Sự cố đơn lẻ")
    page = upload(qm_client, action, "b.pdf", PDF, language="en")
    assert "This corrective action is closed" in page.content.decode()
    assert list(ActionEvidence.objects.values_list("name", flat=True)) == ["a.pdf"]
    evidence = ActionEvidence.objects.get()
    assert qm_client.get(reverse("evidence_download", args=[action.reference, evidence.pk])).status_code == 200


def test_access_anonymous_wrong_role_and_wrong_object_are_refused(qm_client, staff_client, action, qm):
    upload(qm_client, action, "a.pdf", PDF)
    evidence = ActionEvidence.objects.get()
    url = reverse("evidence_download", args=[action.reference, evidence.pk])
    anonymous = Client()
    assert anonymous.get(url).status_code == 302 and "/accounts/login/" in anonymous.get(url)["Location"]
    page = anonymous.post(reverse("evidence_upload", args=[action.reference]), {"step": "investigation"})
    assert page.status_code == 302
    nobody = Client()
    nobody.force_login(UserFactory())  # signed in, no role
    assert nobody.get(url).status_code == 403
    assert nobody.get(reverse("action_8d_pdf", args=[action.reference])).status_code == 403
    # The file of one action is not reached through another action's address.
    other = corrective.action_create(title="Khác", nonconformity="y", owner=qm)
    assert qm_client.get(reverse("evidence_download", args=[other.reference, evidence.pk])).status_code == 404
    assert qm_client.get(reverse("evidence_download", args=[action.reference, evidence.pk + 1])).status_code == 404
    # Staff who neither own the action nor manage quality cannot add to it; its owner can.
    page = staff_client.post(
        reverse("evidence_upload", args=[action.reference]),
        {"step": "investigation", "file": SimpleUploadedFile("b.pdf", PDF)},
    )
    assert page.status_code == 403 and ActionEvidence.objects.count() == 1
    owner = staff_user()
    owned = corrective.action_create(title="Của tôi", nonconformity="z", owner=owner)
    corrective.action_record_containment(action=owned, containment="c")
    corrective.action_decide(action=owned, needed=True, reason="r")
    owner_client = Client()
    owner_client.force_login(owner)
    upload(owner_client, owned, "c.pdf", PDF)
    assert ActionEvidence.objects.filter(action=owned, uploaded_by=owner).exists()
    # The upload form is not offered to those who cannot use it.
    html = staff_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    upload_form = f'action="{reverse("evidence_upload", args=[action.reference])}"'
    assert upload_form not in html and "a.pdf" in html
