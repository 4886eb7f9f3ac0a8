import re

import pytest
from django.urls import reverse

from customers.models import Customer
from surveys.models import Invitation, Question, Survey
from tests.factories import CustomerFactory, make_invitation, make_survey

pytestmark = pytest.mark.django_db


def test_survey_list_empty_state_then_pagination(qm_client, qm):
    html = qm_client.get(reverse("survey_list")).content.decode()
    assert "Chưa có khảo sát nào" in html
    for _ in range(30):
        make_survey(owner=qm, active=False)
    first = qm_client.get(reverse("survey_list")).content.decode()
    assert "Trang 1 / 2" in first
    assert qm_client.get(reverse("survey_list") + "?page=2").status_code == 200
    assert qm_client.get(reverse("survey_list") + "?page=abc").status_code == 200


def test_quality_manager_builds_a_survey_through_the_ui(qm_client, qm):
    page = qm_client.post(
        reverse("survey_create"),
        {"kind": "csat", "title_vi": "Hỗ trợ", "title_en": "Support", "with_comment": "on"},
    )
    survey = Survey.objects.get()
    assert page["Location"] == reverse("survey_detail", args=[survey.pk])
    assert survey.owner == qm and survey.status == "draft"
    add = reverse("question_add", args=[survey.pk])
    qm_client.post(
        add,
        {
            "kind": "single",
            "text_vi": "Kênh liên hệ",
            "text_en": "Channel",
            "required": "on",
            "choices_vi": "Điện thoại\nEmail",
            "choices_en": "Phone\nEmail",
        },
    )
    question = Question.objects.get(kind="single")
    assert question.choices == [{"vi": "Điện thoại", "en": "Phone"}, {"vi": "Email", "en": "Email"}]
    qm_client.post(reverse("question_move", args=[survey.pk, question.pk]), {"direction": "up"})
    order = list(survey.current_version.questions.order_by("position").values_list("kind", flat=True))
    assert order == ["csat", "single", "text"]
    qm_client.post(
        reverse("question_edit", args=[survey.pk, question.pk]),
        {
            "kind": "multi",
            "text_vi": "Kênh",
            "text_en": "Channels",
            "choices_vi": "A\nB\nC",
            "choices_en": "A\nB\nC",
        },
    )
    question.refresh_from_db()
    assert question.kind == "multi" and len(question.choices) == 3 and not question.required
    qm_client.post(reverse("question_delete", args=[survey.pk, question.pk]))
    assert not Question.objects.filter(pk=question.pk).exists()
    qm_client.post(reverse("survey_activate", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.status == "active"
    qm_client.post(reverse("survey_close", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.status == "closed"


def test_bad_question_input_is_explained_and_kept(qm_client, qm):
    survey = make_survey(owner=qm, active=False)
    page = qm_client.post(
        reverse("question_add", args=[survey.pk]),
        {"kind": "single", "text_vi": "Câu hỏi giữ lại", "choices_vi": "Một"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Câu hỏi lựa chọn cần ít nhất hai phương án." in html
    assert 'value="Câu hỏi giữ lại"' in html
    assert survey.current_version.questions.count() == 2


def test_preview_shows_the_customer_page_in_each_language_without_a_submit(qm_client, qm):
    survey = make_survey(owner=qm, active=False)
    vi = qm_client.get(reverse("survey_preview", args=[survey.pk]) + "?lang=vi").content.decode()
    en = qm_client.get(reverse("survey_preview", args=[survey.pk]) + "?lang=en").content.decode()
    assert "Xem trước" in vi and '<html lang="vi">' in vi and 'type="submit"' not in vi
    assert "Preview" in en and "How likely are you to recommend us" in en


def test_editing_a_locked_version_is_refused_with_a_clear_message(qm_client, qm, client):
    survey = make_survey(owner=qm)
    _inv, token = make_invitation(survey=survey)
    qid = survey.current_version.questions.order_by("position").first().pk
    client.post(reverse("respond", args=[token]), {f"q{qid}": "8"})
    detail = qm_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert "các câu hỏi bị khóa" in detail and reverse("question_add", args=[survey.pk]) not in detail
    page = qm_client.post(
        reverse("question_edit", args=[survey.pk, qid]),
        {"kind": "nps", "text_vi": "Đổi", "text_en": "Changed", "required": "on"},
    )
    assert "Phiên bản này đã có câu trả lời" in page.content.decode()
    assert Question.objects.get(pk=qid).text_en != "Changed"
    qm_client.post(reverse("survey_new_version", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.current_version.number == 2
    new_q = survey.current_version.questions.order_by("position").first()
    qm_client.post(
        reverse("question_edit", args=[survey.pk, new_q.pk]),
        {"kind": "nps", "text_vi": "Đổi", "text_en": "Changed", "required": "on"},
    )
    new_q.refresh_from_db()
    assert new_q.text_en == "Changed"


def test_invitation_from_the_ui_shows_a_working_link_once(qm_client, qm, client):
    survey = make_survey(owner=qm)
    customer = CustomerFactory(email="an@example.com")
    page = qm_client.post(
        reverse("invitation_new", args=[survey.pk]), {"customer": "AN@example.com", "expires_in_days": "14"}
    )
    link = re.search(r'value="(http://127\.0\.0\.1:8000/s/[^"]+/)"', page.content.decode()).group(1)
    invitation = Invitation.objects.get()
    assert invitation.customer == customer and (invitation.expires_at - invitation.created_at).days == 14
    # The form is empty again for the next customer, and the link has a copy button (shown by copy.js).
    html = page.content.decode()
    assert 'name="customer"' in html and "AN@example.com" not in html
    assert 'data-copy="link"' in html and "js/copy.js" in html
    assert client.get(link.replace("http://127.0.0.1:8000", "")).status_code == 200
    renewed = qm_client.post(reverse("invitation_renew", args=[survey.pk, invitation.pk])).content.decode()
    new_link = re.search(r'value="(http://127\.0\.0\.1:8000/s/[^"]+/)"', renewed).group(1)
    assert new_link != link
    assert client.get(link.replace("http://127.0.0.1:8000", "")).status_code == 404


def test_invitation_form_errors(qm_client, qm):
    survey = make_survey(owner=qm)
    CustomerFactory(email="", external_id="NOMAIL")
    unknown = qm_client.post(
        reverse("invitation_new", args=[survey.pk]), {"customer": "x@y.z", "expires_in_days": "30"}
    )
    assert "Không có khách hàng nào" in unknown.content.decode()
    no_mail = qm_client.post(
        reverse("invitation_new", args=[survey.pk]),
        {"customer": "NOMAIL", "expires_in_days": "30", "send_email": "on"},
    )
    assert "không có địa chỉ email" in no_mail.content.decode()
    draft = make_survey(owner=qm, active=False)
    CustomerFactory(email="b@example.com")
    refused = qm_client.post(
        reverse("invitation_new", args=[draft.pk]), {"customer": "b@example.com", "expires_in_days": "30"}
    )
    assert "Hãy kích hoạt khảo sát" in refused.content.decode()
    assert Invitation.objects.count() == 0


def test_invitation_by_email_is_sent_on_commit(qm_client, qm, mailoutbox, django_capture_on_commit_callbacks):
    survey = make_survey(owner=qm)
    CustomerFactory(email="binh@example.com", name="Trần Bình")
    with django_capture_on_commit_callbacks(execute=True):
        page = qm_client.post(
            reverse("invitation_new", args=[survey.pk]),
            {"customer": "binh@example.com", "expires_in_days": "30", "send_email": "on"},
        )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["binh@example.com"]
    assert page["Location"] == reverse("invitation_new", args=[survey.pk])  # a reload cannot invite twice
    assert Invitation.objects.get().sent_at is not None


def test_customer_list_search_and_create(qm_client):
    CustomerFactory(name="Lê Thị Hoa", email="hoa@example.com")
    CustomerFactory(name="John Smith", email="john@example.com")
    html = qm_client.get(reverse("customer_list") + "?q=hoa").content.decode()
    assert "Lê Thị Hoa" in html and "John Smith" not in html
    assert "Không có khách hàng nào khớp" in qm_client.get(reverse("customer_list") + "?q=zzz").content.decode()
    page = qm_client.post(
        reverse("customer_create"),
        {"name": "Phạm Minh", "email": "not-an-email", "language": "vi", "customer_type": "direct"},
    )
    assert page.status_code == 200 and 'value="Phạm Minh"' in page.content.decode()
    qm_client.post(
        reverse("customer_create"),
        {
            "name": "Phạm Minh",
            "email": "minh@example.com",
            "language": "vi",
            "customer_type": "direct",
            "external_id": "EXT-X",
        },
    )
    duplicate = qm_client.post(
        reverse("customer_create"),
        {
            "name": "Other",
            "email": "o@example.com",
            "language": "en",
            "customer_type": "direct",
            "external_id": "EXT-X",
        },
    )
    assert "Một khách hàng khác đã dùng mã ngoài này." in duplicate.content.decode()
    assert Customer.objects.filter(external_id="EXT-X").count() == 1


def test_closed_loop_thresholds_are_edited_with_the_survey_and_checked(qm_client, qm):
    survey = make_survey(owner=qm)
    data = {
        "title_vi": "Khảo sát",
        "title_en": "Survey",
        "closed_loop": "on",
        "nps_detractor_max": "7",
        "csat_detractor_max": "2",
        "ces_detractor_min": "6",
    }
    assert qm_client.post(reverse("survey_edit", args=[survey.pk]), data).status_code == 302
    survey.refresh_from_db()
    assert survey.nps_detractor_max == 7 and survey.detractor_ranges()["nps"] == (0, 7)
    page = qm_client.post(reverse("survey_edit", args=[survey.pk]), {**data, "nps_detractor_max": "10"})
    assert page.status_code == 200 and "Hãy chọn một giá trị từ 0 đến 9." in page.content.decode()
    survey.refresh_from_db()
    assert survey.nps_detractor_max == 7


def test_the_question_form_shows_only_the_chosen_types_fields_with_or_without_javascript(qm_client, qm):
    survey = make_survey(owner=qm, active=False)
    add = reverse("question_add", args=[survey.pk])

    def shown(html: str) -> set[str]:
        groups = re.findall(r'<div id="fields-(\w+)"\s+data-kinds="[^"]*"( hidden="hidden")?>', html)
        return {name for name, hidden in groups if not hidden}

    page = qm_client.get(add).content.decode()
    assert shown(page) == set() and "js/question.js" in page  # NPS: a fixed scale, no options
    assert shown(qm_client.get(add + "?kind=single").content.decode()) == {"choices"}
    # Without JavaScript, "show the fields" re-renders the same input for the new type, saving nothing.
    count = survey.current_version.questions.count()
    retyped = qm_client.post(add, {"kind": "rating", "text_vi": "Chấm điểm", "retype": "1"}).content.decode()
    assert shown(retyped) == {"scale"} and 'value="Chấm điểm"' in retyped and "is-invalid" not in retyped
    assert survey.current_version.questions.count() == count
    saved = qm_client.post(add, {"kind": "rating", "text_vi": "Chấm điểm", "scale_min": "1", "scale_max": "5"})
    assert saved.status_code == 302 and survey.current_version.questions.count() == count + 1
    # A follow-up's range lies on the nearest score question above it: here the 1–5 rating.
    data = {"kind": "text", "text_vi": "Vì sao?", "show_if_min": "0", "show_if_max": "6", "required": "on"}
    refused = qm_client.post(add, data)
    assert refused.status_code == 200 and "từ 1 đến 5" in refused.content.decode()
    assert qm_client.post(add, {**data, "show_if_min": "1", "show_if_max": "2"}).status_code == 302
    assert survey.current_version.questions.get(text_vi="Vì sao?").show_if_max == 2


def test_counts_on_the_home_page_and_the_survey_page_are_grouped_as_the_reader_writes_them(qm_client, qm):
    # 1.200 in Vietnamese, 1,200 in English: the dashboard did so, the home tiles and the survey page did not ("1200").
    from surveys.models import Response

    survey = make_survey(owner=qm)
    Customer.objects.bulk_create(Customer(name=f"Khách {i}", email=f"k{i}@example.com") for i in range(1200))
    Response.objects.bulk_create(
        Response(survey=survey, version=survey.current_version, language="vi") for _ in range(1200)
    )
    home = qm_client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert home.count(">1.200</div>") == 2 and "1200" not in home
    page = qm_client.get(reverse("survey_detail", args=[survey.pk]), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "1.200 phản hồi" in page
    listing = qm_client.get(reverse("survey_list"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "1.200" in listing and "1200" not in listing
    qm_client.post(reverse("set_language"), {"language": "en"})
    page = qm_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert "1,200 responses" in page


def test_every_invitation_of_a_survey_can_be_found_a_page_at_a_time_and_by_customer(qm_client, qm):
    survey = make_survey(owner=qm)
    oldest = make_invitation(survey=survey, customer=CustomerFactory(name="Phạm Văn Cũ", external_id="CRM-9"))[0]
    for n in range(30):
        make_invitation(survey=survey, customer=CustomerFactory(name=f"Khách {n:02d}"))
    url = reverse("survey_detail", args=[survey.pk])
    first = qm_client.get(url).content.decode()
    assert "Lời mời" in first and "Trang 1 / 2" in first and "Khách 29" in first
    assert "Phạm Văn Cũ" not in first
    second = qm_client.get(url + "?page=2").content.decode()
    assert "Phạm Văn Cũ" in second and "Khách 29" not in second
    # By name (any part, any case), by exact external id; the search is kept in the page links.
    found = qm_client.get(url + "?q=văn cũ").content.decode()
    assert "Phạm Văn Cũ" in found and "Khách 01" not in found
    assert 'value="văn cũ"' in found
    assert "Phạm Văn Cũ" in qm_client.get(url + "?q=CRM-9").content.decode()
    none = qm_client.get(url + "?q=không+có+ai").content.decode()
    assert 'data-testid="invitation-none-found"' in none
    assert qm_client.get(url + "?page=abc").status_code == 200
    assert oldest.customer.name == "Phạm Văn Cũ"
    with_search = qm_client.get(url + "?q=Khách").content.decode()
    assert "q=Kh%C3%A1ch&amp;page=2" in with_search
