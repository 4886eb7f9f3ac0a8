"""Root cause (ISO 9001 10.2.1 b): each method's own fields, and the similar-nonconformities question, through the
action page as a quality manager works it, in both languages."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from audit.trail import audit_digest
from feedback import corrective
from feedback.models import ActionStatus, CorrectiveAction

pytestmark = pytest.mark.django_db

WHYS = {
    "why_1": "Vì sao đơn giao trễ?",
    "because_1": "Xe rời kho sau 16 giờ",
    "why_2": "Vì sao xe rời kho muộn?",
    "because_2": "Ca chiều thiếu tài xế",
    "why_3": "Vì sao thiếu tài xế?",
    "because_3": "Nhà thầu mới không đủ người",
}


@pytest.fixture
def action(qm):
    action = corrective.action_create(title="Giao trễ", nonconformity="Nhiều đơn trễ", owner=qm)
    corrective.action_record_containment(action=action, containment="Giao bù")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại")
    return action


def post(client, action, data, language="vi"):
    return client.post(
        reverse("action_step", args=[action.reference, "root-cause"]), data, HTTP_ACCEPT_LANGUAGE=language, follow=True
    )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("vi", "Hãy trả lời câu hỏi “Sự không phù hợp tương tự có thể xảy ra ở nơi khác không?”"),
        ("en", "Answer the question “Could similar nonconformities occur elsewhere?”"),
    ],
)
def test_the_step_does_not_close_until_the_similar_question_is_answered(qm_client, action, language, message):
    page = post(qm_client, action, {"method": "5why", **WHYS, "similar": "Kho Đà Nẵng?"}, language)
    html = page.content.decode()
    assert message in html
    # The refused form shows what was typed again.
    assert 'value="Nhà thầu mới không đủ người"' in html and "Kho Đà Nẵng?</textarea>" in html
    assert '<option value="5why" selected>' in html
    action.refresh_from_db()
    assert action.status == ActionStatus.DECIDED and action.analysed_at is None and action.root_cause == ""
    # A "yes" needs to say where.
    page = post(qm_client, action, {"method": "5why", **WHYS, "similar_possible": "yes"}, language)
    action.refresh_from_db()
    assert action.analysed_at is None
    post(qm_client, action, {"method": "5why", **WHYS, "similar_possible": "yes", "similar": "Kho Đà Nẵng"}, language)
    action.refresh_from_db()
    assert action.status == ActionStatus.ANALYSED and action.similar_possible is True
    assert action.similar_nonconformities == "Kho Đà Nẵng"


@pytest.mark.parametrize(
    ("language", "refused", "shown"),
    [
        ("vi", "Hãy lần theo chuỗi “vì sao” ít nhất 3 mắt xích", "Vì sao?"),
        ("en", "Follow the chain of whys at least 3 links deep", "Why?"),
    ],
)
def test_five_whys_are_a_chain_of_why_and_because(qm_client, action, language, refused, shown):
    short = {k: v for k, v in WHYS.items() if k.endswith("_1")}
    page = post(qm_client, action, {"method": "5why", **short, "similar_possible": "no"}, language)
    assert refused in page.content.decode()
    half = {**WHYS, "because_3": ""}
    page = post(qm_client, action, {"method": "5why", **half, "similar_possible": "no"}, language)
    action.refresh_from_db()
    assert action.analysed_at is None
    # No root cause typed: the chain's last "because" is the root cause.
    page = post(qm_client, action, {"method": "5why", **WHYS, "similar_possible": "no"}, language)
    action.refresh_from_db()
    assert action.root_cause == "Nhà thầu mới không đủ người"
    assert [link["because"] for link in action.root_cause_analysis["whys"]] == [
        "Xe rời kho sau 16 giờ",
        "Ca chiều thiếu tài xế",
        "Nhà thầu mới không đủ người",
    ]
    html = page.content.decode()
    assert f"{shown} Vì sao xe rời kho muộn? →" in html
    entry = AuditEntry.objects.filter(record_type="feedback.correctiveaction", action="root_cause").get()
    assert entry.changes["similar_possible"] == [None, False]
    # The analysis can quote the customer: the trail holds its digest, which still proves what was recorded.
    assert entry.changes["root_cause_analysis"][0] == {}
    assert entry.changes["root_cause_analysis"][1] == audit_digest(action.root_cause_analysis)


@pytest.mark.parametrize(("language", "label"), [("vi", "Con người"), ("en", "People")])
def test_fishbone_keeps_causes_per_category(qm_client, action, language, label):
    page = post(qm_client, action, {"method": "fishbone", "root_cause": "Thiếu xe", "similar_possible": "no"}, language)
    assert CorrectiveAction.objects.get().analysed_at is None
    page = post(
        qm_client,
        action,
        {
            "method": "fishbone",
            "root_cause": "Thiếu xe",
            "fish_people": "Tài xế mới\n\nChưa được đào tạo",
            "fish_environment": "Kẹt xe giờ cao điểm",
            "similar_possible": "no",
            # Another method's fields are dropped, not stored.
            **WHYS,
        },
        language,
    )
    action.refresh_from_db()
    assert action.root_cause_analysis == {
        "causes": {
            "people": ["Tài xế mới", "Chưa được đào tạo"],
            "method": [],
            "machine": [],
            "material": [],
            "measurement": [],
            "environment": ["Kẹt xe giờ cao điểm"],
        }
    }
    html = page.content.decode()
    assert label in html and "Tài xế mới; Chưa được đào tạo" in html


@pytest.mark.parametrize(("language", "message"), [("vi", "D1 Nhóm"), ("en", "D1 Team")])
def test_eight_d_needs_its_team_and_problem_description(qm_client, action, language, message):
    page = post(qm_client, action, {"method": "8d", "root_cause": "Quy trình", "similar_possible": "no"}, language)
    assert message in page.content.decode()
    assert CorrectiveAction.objects.get().analysed_at is None
    post(
        qm_client,
        action,
        {
            "method": "8d",
            "root_cause": "Quy trình điều phối",
            "similar_possible": "no",
            "d1": "Lan (QM), Minh (kho)",
            "d2": "30 đơn trễ trong tháng 11 ở kho Hà Nội",
            "d7": "Cập nhật quy trình điều phối",
        },
        language,
    )
    action.refresh_from_db()
    assert action.analysed_at is not None
    assert action.root_cause_analysis["d1"] == "Lan (QM), Minh (kho)" and action.root_cause_analysis["d7"]


def test_staff_cannot_record_the_root_cause(staff_client, action):
    page = staff_client.post(
        reverse("action_step", args=[action.reference, "root-cause"]), {"method": "other", "similar_possible": "no"}
    )
    assert page.status_code == 403
    action.refresh_from_db()
    assert action.analysed_at is None


@pytest.mark.parametrize(("language", "why"), [("vi", "Vì sao?"), ("en", "Why?")])
def test_the_field_history_reads_the_analysis_as_words_not_as_a_stored_dict(qm_client, action, language, why):
    post(qm_client, action, {"method": "5why", **WHYS, "similar_possible": "no"}, language)
    html = qm_client.get(reverse("action_detail", args=[action.reference]), HTTP_ACCEPT_LANGUAGE=language)
    history = html.content.decode().split('id="history-h"', 1)[1]
    assert "{&#x27;whys&#x27;" not in history and "<td>{}</td>" not in history
    assert f"<td>{why} Vì sao đơn giao trễ? → " in history


@pytest.mark.parametrize(
    ("language", "why", "kept"), [("vi", "Vì sao?", "không lưu trong nhật ký"), ("en", "Why?", "not kept in the trail")]
)
def test_the_audit_trail_keeps_the_analysis_as_a_digest_and_reads_older_entries_as_words(
    qm_client, action, language, why, kept
):
    # The analysis can quote the customer, like the action's other texts: the trail keeps its digest (an erasure
    # must not leave it behind), never its stored keys.
    from audit.models import AuditEntry
    from audit.selectors import change_rows

    post(qm_client, action, {"method": "5why", **WHYS, "similar_possible": "no"}, language)
    query = {"type": "feedback.correctiveaction", "record": action.pk}
    page = qm_client.get(reverse("audit_trail"), query, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert kept in page and "Vì sao đơn giao trễ?" not in page
    assert "because:" not in page and "whys:" not in page
    export = b"".join(qm_client.get(reverse("audit_export"), query, HTTP_ACCEPT_LANGUAGE=language).streaming_content)
    assert "Vì sao đơn giao trễ?".encode() not in export and b"whys:" not in export
    # An entry written before, with the analysis in clear, reads as words rather than as its keys.
    older = AuditEntry(
        record_type="feedback.correctiveaction",
        changes={"root_cause_analysis": [{}, {"whys": [{"why": "Vì sao trễ?", "because": "Thiếu xe"}]}]},
    )
    from django.utils import translation

    with translation.override(language):
        ((_field, before, after),) = list(change_rows(older))
        because = translation.gettext("Because")
    assert (before, after) == ("—", f"{why} Vì sao trễ? → {because} Thiếu xe")
