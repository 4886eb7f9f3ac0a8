"""Analysis snapshots (ISO 9001 9.1.3) saved from the dashboard and cited in a review; the 9.1.2 evidence pack
(one bilingual PDF) for a period."""

import io
from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.roles import TOP_MANAGEMENT
from audit.models import AuditEntry
from reports.models import AnalysisSnapshot
from reports.review import review_create
from reports.rollup import rollup_refresh
from tests.factories import make_invitation, make_response, make_survey

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())


@pytest.fixture
def survey(qm):
    with time_machine.travel("2026-03-10 10:00 +0700", tick=False):
        survey = make_survey(kind="nps", owner=qm)
        survey.title_vi, survey.title_en = "Khảo sát sau giao hàng", "After-delivery survey"
        survey.plan_purpose = "Đo mức độ hài lòng sau giao hàng"
        survey.plan_method = "Email sau 2 ngày"
        survey.plan_frequency = "Hằng tháng"
        survey.plan_sample_target = 200
        survey.save()
        for i in range(60):
            invitation, _token = make_invitation(survey=survey)
            invitation.sent_at = timezone.now()
            invitation.answered_at = timezone.now() if i < 45 else None
            invitation.save(update_fields=["sent_at", "answered_at"])
        for score in [10] * 30 + [9] * 5 + [4] * 10:
            make_response(survey, score)
        rollup_refresh()
    return survey


def view(survey):
    return {"survey": survey.pk, "start": "2026-01-01", "end": "2026-06-30", "granularity": "month"}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_dashboard_view_is_saved_with_its_figures_and_cited_in_a_review(qm, qm_client, survey, language):
    missing = qm_client.post(reverse("analysis_new"), {**view(survey), "title": "Quý 1", "conclusion": " "},
                             follow=True, HTTP_ACCEPT_LANGUAGE=language)  # fmt: skip
    assert not AnalysisSnapshot.objects.exists()
    assert ("give it a title and a conclusion" if language == "en" else "hãy đặt tiêu đề và viết kết luận") in (
        missing.content.decode()
    )
    saved = qm_client.post(reverse("analysis_new"), {**view(survey), "title": "NPS nửa đầu năm",
                           "conclusion": "NPS ổn định; giao hàng chậm là nguyên nhân chính"},
                           follow=True, HTTP_ACCEPT_LANGUAGE=language)  # fmt: skip
    snapshot = AnalysisSnapshot.objects.get()
    # Figures computed on the server: NPS (35 − 10) / 45 = 55.6, n = 45.
    assert snapshot.figures["total"]["n"] == 45 and snapshot.figures["total"]["value"] == pytest.approx(55.56, 0.01)
    assert snapshot.filters["start"] == "2026-01-01" and snapshot.created_by == qm
    assert AuditEntry.objects.filter(record_type="reports.analysissnapshot", action="create").count() == 1
    assert ("55,6" if language == "vi" else "55.6") in saved.content.decode()
    listing = qm_client.get(reverse("analysis_list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "NPS nửa đầu năm" in listing
    # Later answers do not change the record.
    make_response(survey, 0, at=timezone.make_aware(timezone.datetime(2026, 3, 12, 10)))
    rollup_refresh()
    snapshot.refresh_from_db()
    assert snapshot.figures["total"]["n"] == 45

    review = review_create(title="Xem xét 2026", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                           prepared_by=qm)  # fmt: skip
    page = qm_client.get(reverse("review_detail", args=[review.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<option value="{snapshot.pk}">NPS nửa đầu năm' in page  # selectable as an input
    qm_client.post(reverse("review_detail", args=[review.pk]), {"op": "cite", "analysis": snapshot.pk})
    assert list(review.analyses.all()) == [snapshot]
    page = qm_client.get(reverse("review_detail", args=[review.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    text = pdf_text(qm_client.get(reverse("review_pdf", args=[review.pk]), HTTP_ACCEPT_LANGUAGE=language))
    for shown in (page, text):
        assert "NPS nửa đầu năm" in shown and "giao hàng chậm là nguyên nhân chính" in shown
    assert ("Analyses cited" if language == "en" else "Các phân tích được trích dẫn") in text


def test_citing_survives_sign_off_and_a_bad_analysis_id_changes_nothing(qm, qm_client, survey):
    from reports.analysis import analysis_save
    from reports.dashboard import Filters

    qm.groups.add(Group.objects.get(name=TOP_MANAGEMENT))
    snapshot = analysis_save(filters=Filters(survey=survey, start=date(2026, 1, 1), end=date(2026, 6, 30)),
                             title="Phân tích A", conclusion="Kết luận A", user=qm)  # fmt: skip
    review = review_create(title="R", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), prepared_by=qm)
    url = reverse("review_detail", args=[review.pk])
    assert qm_client.post(url, {"op": "cite", "analysis": "99999999999999999999"}).status_code == 404
    qm_client.post(url, {"op": "cite", "analysis": snapshot.pk})
    qm_client.post(url, {"op": "meeting", "chair": qm.pk, "attendees": "Lan"})
    qm_client.post(url, {"op": "sign"})
    review.refresh_from_db()
    assert review.locked and review.snapshot["analyses"][0]["conclusion"] == "Kết luận A"
    qm_client.post(url, {"op": "uncite", "analysis": snapshot.pk})
    assert review.analyses.count() == 1


@pytest.mark.parametrize(
    ("language", "first", "second"), [("vi", "Mục đích", "Purpose"), ("en", "Purpose", "Mục đích")]
)
def test_the_evidence_pack_is_one_bilingual_pdf_for_the_period(qm, qm_client, survey, language, first, second):
    from reports.analysis import analysis_save
    from reports.dashboard import Filters

    analysis_save(filters=Filters(survey=survey, start=date(2026, 1, 1), end=date(2026, 6, 30)),
                  title="Phân tích quý 1", conclusion="Tập trung vào thời gian giao hàng", user=qm)  # fmt: skip
    query = {"start": "2026-01-01", "end": "2026-06-30"}
    page = qm_client.get(reverse("evidence"), query, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    response = qm_client.get(reverse("evidence_pdf"), query, HTTP_ACCEPT_LANGUAGE=language)
    text = pdf_text(response)
    for shown in (page, text):
        assert f"{first} / {second}" in shown  # the reader's language first, the other alongside
        assert "Khảo sát sau giao hàng / After-delivery survey" in shown or (
            "After-delivery survey / Khảo sát sau giao hàng" in shown
        )
        assert "Đo mức độ hài lòng sau giao hàng" in shown and "Email sau 2 ngày" in shown and "200" in shown
        assert "n = 60" in shown  # response rate 45 of 60, with its interval
        assert ("75,0%" if language == "vi" else "75.0%") in shown
        assert "n = 45" in shown  # the NPS result with its interval
        assert "Phân tích quý 1" in shown and "Tập trung vào thời gian giao hàng" in shown
    assert ("Monitoring and measurement evidence" in text) and ("Bằng chứng theo dõi và đo lường" in text)
    bad = qm_client.get(
        reverse("evidence"), {"start": "2026-07-01", "end": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert bad.status_code == 200 and "evidence-pdf" not in bad.content.decode()


def test_the_evidence_pack_of_an_empty_period_says_so(qm_client):
    text = pdf_text(qm_client.get(reverse("evidence_pdf"), {"start": "2020-01-01", "end": "2020-12-31"}))
    assert "Không có khảo sát nào được gửi hoặc trả lời trong kỳ này." in text


def test_the_evidence_pack_and_a_saved_analysis_give_a_mean_effort_with_two_decimals(qm, qm_client):
    # CES 2 × 26 and 3 × 14: mean 2.35, t interval 2.20 – 2.50 (n = 40), as the dashboard shows it; with one
    # decimal both packs read "2,4 (2,2 – 2,5)".
    from reports.analysis import analysis_save
    from reports.dashboard import Filters

    with time_machine.travel("2026-03-10 10:00 +0700", tick=False):
        survey = make_survey(kind="ces", owner=qm)
        for score in [2] * 26 + [3] * 14:
            make_response(survey, score)
        rollup_refresh()
    analysis_save(filters=Filters(survey=survey, start=date(2026, 1, 1), end=date(2026, 6, 30)),
                  title="Nỗ lực quý 1", conclusion="Ổn định", user=qm)  # fmt: skip
    page = qm_client.get(reverse("evidence"), {"start": "2026-01-01", "end": "2026-06-30"}).content.decode()
    assert page.count("2,35 (2,20 – 2,50), n = 40") == 2  # the survey's result and the analysis cited
