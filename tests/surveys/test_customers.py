import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from customers import importing
from customers.models import Customer, ErasureRecord
from customers.services import customer_erase, unsubscribe_token
from surveys.campaigns import invitation_email_send
from surveys.models import Answer, Response
from tests.factories import CustomerFactory, make_invitation

pytestmark = pytest.mark.django_db

CSV = (
    "\ufeffname,email,language,segment,type,external_id,phone\n"
    "Nguyễn Văn An,an@example.com,vi,retail,direct,C-1,0901\n"
    "Sarah Hughes,sarah@example.com,English,sme;enterprise,indirect,C-2,\n"
    "Bad Mail,not-an-email,vi,,direct,C-3,\n"
    ",noname@example.com,vi,,direct,C-4,\n"
    "Dup,an@example.com,fr,,sideways,C-5,\n"
)


def test_parse_explains_each_rows_problems():
    from django.utils import translation

    with translation.override("en"):
        parsed = importing.parse(CSV.encode())
    assert [r.line for r in parsed.valid] == [2, 3]
    problems = {r.line: " ".join(r.problems) for r in parsed.invalid}
    assert "not an email address" in problems[4]
    assert "name is missing" in problems[5]
    assert "same email is on line 2" in problems[6] and "Unknown language" in problems[6]
    assert "Unknown type" in problems[6]
    sarah = parsed.valid[1].values
    assert sarah["language"] == "en" and sarah["segment"] == "sme" and sarah["customer_type"] == "indirect"


def test_file_level_problems():
    assert importing.parse("name;email\n".encode("utf-16")).file_problem
    assert importing.parse(b"").file_problem
    assert "name" in importing.parse(b"email\nx@example.com\n").file_problem


def test_import_creates_and_updates_in_one_transaction():
    existing = CustomerFactory(external_id="C-1", email="old@example.com", name="Old", phone="0999")
    by_email = CustomerFactory(external_id="", email="sarah@example.com", name="S.")
    created, updated = importing.import_rows(importing.parse(CSV.encode()))
    assert (created, updated) == (0, 2)
    existing.refresh_from_db()
    by_email.refresh_from_db()
    assert existing.name == "Nguyễn Văn An" and existing.email == "an@example.com" and existing.phone == "0901"
    assert by_email.name == "Sarah Hughes" and by_email.external_id == "C-2" and by_email.language == "en"
    assert Customer.objects.count() == 2


def test_a_crash_half_way_leaves_nothing_imported(monkeypatch):
    CustomerFactory(external_id="C-1", email="an@example.com")

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    # New rows are inserted first; the crash comes while updating the existing ones.
    monkeypatch.setattr(Customer.objects, "bulk_update", crash)
    with pytest.raises(RuntimeError):
        importing.import_rows(importing.parse(CSV.encode()))
    assert not Customer.objects.filter(email="sarah@example.com").exists()
    assert Customer.objects.count() == 1


def test_import_through_the_pages(qm_client):
    upload = SimpleUploadedFile("customers.csv", CSV.encode(), content_type="text/csv")
    page = qm_client.post(reverse("customer_import"), {"file": upload})
    html = page.content.decode()
    assert "Có thể nhập 2 dòng; 3 dòng có lỗi" in html and "không phải là địa chỉ email" in html
    assert Customer.objects.count() == 0
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    done = qm_client.post(reverse("customer_import"), {"key": key})
    assert done.status_code == 302 and Customer.objects.count() == 2
    again = qm_client.post(reverse("customer_import"), {"key": key}, follow=True)
    assert "hết hạn" in again.content.decode() and Customer.objects.count() == 2
    bad = qm_client.post(reverse("customer_import"), {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00")})
    assert bad.status_code == 400


def test_import_of_50000_rows_parses_and_imports():
    rows = "\n".join(f"Khách {i},k{i}@example.com,vi,retail,direct,E-{i}," for i in range(50_000))
    parsed = importing.parse(("name,email,language,segment,type,external_id,phone\n" + rows).encode())
    assert len(parsed.valid) == 50_000
    assert importing.import_rows(parsed) == (50_000, 0)


def test_erasure_removes_personal_data_keeps_scores_and_is_recorded(qm, mailoutbox):
    from feedback import workflow

    invitation, token = make_invitation()
    customer = invitation.customer
    q1, q2 = invitation.survey.current_version.questions.order_by("position")
    Client().post(reverse("respond", args=[token]), {f"q{q1.pk}": "3", f"q{q2.pk}": "Tôi là Nguyễn Văn A, gọi 0901"})
    case = workflow.case_create(
        channel="phone", description="x", customer=customer, contact_name="Nguyễn Văn A", contact_phone="0901"
    )
    customer_erase(customer=customer, actor=qm, reason="Email yêu cầu ngày 3/5")
    customer.refresh_from_db()
    case.refresh_from_db()
    assert (customer.name, customer.email, customer.phone, customer.external_id) == ("—", "", "", "")
    assert customer.erased_at and customer.opted_out_at
    assert Answer.objects.get(question=q1).number == 3 and Answer.objects.get(question=q2).text == ""
    assert Response.objects.filter(customer=customer).count() == 1
    assert (case.contact_name, case.contact_phone) == ("", "")
    assert ErasureRecord.objects.get().erased_by == qm


def test_erasure_through_the_page_needs_confirmation_and_a_reason(qm_client):
    customer = CustomerFactory(name="Lê Hoa")
    qm_client.post(reverse("customer_erase", args=[customer.pk]), {"reason": "email"})
    customer.refresh_from_db()
    assert customer.name == "Lê Hoa"
    qm_client.post(reverse("customer_erase", args=[customer.pk]), {"reason": " ", "confirm": "yes"})
    customer.refresh_from_db()
    assert customer.name == "Lê Hoa"
    qm_client.post(reverse("customer_erase", args=[customer.pk]), {"reason": "Yêu cầu qua email", "confirm": "yes"})
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert qm_client.get(reverse("customer_edit", args=[customer.pk])).status_code == 302


def test_unsubscribe_one_click_and_never_invited_again(mailoutbox):
    invitation, _token = make_invitation(customer=CustomerFactory(language="vi"))
    customer = invitation.customer
    invitation_email_send(invitation_id=invitation.pk)
    message = mailoutbox[0]
    unsubscribe = re.search(r"<(http://127\.0\.0\.1:8000/u/[^>]+/)>", message.extra_headers["List-Unsubscribe"])
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe.group(1).replace("http://127.0.0.1:8000", "")
    assert path in message.body
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and "Ngừng nhận khảo sát" in page.content.decode()
    customer.refresh_from_db()
    assert customer.opted_out_at is None  # a GET (a mail scanner) changes nothing
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    customer.refresh_from_db()
    assert customer.opted_out_at is not None
    second, _ = make_invitation(survey=invitation.survey, customer=customer)
    assert invitation_email_send(invitation_id=second.pk) == "opted-out"
    assert len(mailoutbox) == 1
    assert client.get(reverse("unsubscribe", args=["forged:token"])).status_code == 404
    assert unsubscribe_token(customer) in path


def test_unsubscribe_link_is_the_same_in_every_email_and_old_links_still_work():
    import time_machine
    from django.core import signing

    first, second = CustomerFactory(), CustomerFactory()
    with time_machine.travel("2026-01-01 08:00:00+07:00", tick=False):
        earlier = unsubscribe_token(first)
        dated = signing.dumps(second.pk, salt="surveys.unsubscribe")  # the form of links sent before
    with time_machine.travel("2026-06-01 08:00:01+07:00", tick=False):
        assert unsubscribe_token(first) == earlier
    client = Client()
    assert client.post(reverse("unsubscribe", args=[dated])).status_code == 200
    second.refresh_from_db()
    assert second.opted_out_at is not None
    first.refresh_from_db()
    assert first.opted_out_at is None
    tampered = earlier.replace(str(first.pk) + ":", str(second.pk) + ":", 1)
    assert client.get(reverse("unsubscribe", args=[tampered])).status_code == 404


def test_customer_list_filters_and_customer_page(qm_client):
    from feedback import workflow

    hoa = CustomerFactory(name="Lê Thị Hoa", segment="sme", language="vi")
    CustomerFactory(name="John Smith", segment="retail", language="en")
    html = qm_client.get(reverse("customer_list") + "?segment=sme").content.decode()
    assert "Lê Thị Hoa" in html and "John Smith" not in html
    html = qm_client.get(reverse("customer_list") + "?language=en&opted_out=no").content.decode()
    assert "John Smith" in html and "Lê Thị Hoa" not in html
    case = workflow.case_create(channel="phone", description="Hóa đơn sai", customer=hoa)
    page = qm_client.get(reverse("customer_detail", args=[hoa.pk])).content.decode()
    assert case.reference in page and "Xóa dữ liệu cá nhân" in page
