import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from reports.exports import neutralise
from reports.models import ExportJob
from surveys import building
from surveys.models import Answer
from tests.factories import CustomerFactory, make_response, make_survey

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+84 912", "'+84 912"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tlead", "'\tlead"),
        ("\rlead", "'\rlead"),
        ("Tốt lắm = 10/10", "Tốt lắm = 10/10"),
        (7, 7),
    ],
)
def test_formula_like_cells_are_neutralised(value, shown):
    assert neutralise(value) == shown


@pytest.fixture
def survey_with_answers():
    survey = make_survey(kind="nps")
    version = survey.current_version
    comment = version.questions.order_by("position").last()
    channel = building.question_add(
        version=version,
        kind="single",
        text_en="Channel",
        text_vi="Kênh",
        required=False,
        choices=[{"vi": "Cửa hàng", "en": "Shop"}, {"vi": "Trực tuyến", "en": "Online"}],
    )
    topics = building.question_add(version=version, kind="multi", text_en="Topics", text_vi="Chủ đề", required=False,
                                   choices=[{"vi": "Giá", "en": "Price"}, {"vi": "Giao hàng", "en": "Delivery"},
                                            {"vi": "Nhân viên", "en": "Staff"}])  # fmt: skip
    retail = CustomerFactory(name="=cmd|' /C calc'!A0", email="a@example.com", segment="retail")
    first = make_response(survey, 9, customer=retail, at=timezone.now() - timedelta(hours=3))
    Answer.objects.create(response=first, question=comment, text='=HYPERLINK("http://evil.example","bấm")')
    Answer.objects.create(response=first, question=channel, number=1)
    Answer.objects.create(response=first, question=topics, choices=[0, 2])
    second = make_response(survey, 3, customer=CustomerFactory(segment="corporate"))
    Answer.objects.create(response=second, question=comment, text="Giao hàng chậm\nlần thứ hai")
    make_response(survey, 10, at=timezone.now() - timedelta(days=400))  # outside the range
    return survey


def run_export(client, survey, fmt="csv", **filters):
    data = {"survey": survey.pk, "start": (TODAY - timedelta(days=30)).isoformat(), "end": TODAY.isoformat(),
            "segment": "", "format": fmt, **filters}  # fmt: skip
    response = client.post(reverse("export_new"), data)
    job = ExportJob.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse("export_detail", args=[job.pk])
    return job


def test_a_csv_export_opens_in_excel_with_vietnamese_and_no_formula(qm_client, survey_with_answers,
                                                                     django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        job = run_export(qm_client, survey_with_answers)
    job.refresh_from_db()
    assert job.status == "done" and job.rows == 2
    page = qm_client.get(reverse("export_detail", args=[job.pk])).content.decode()
    assert "Sẵn sàng: 2 câu trả lời." in page
    download = qm_client.get(reverse("export_download", args=[job.pk]))
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf") and download["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, first, second = rows
    assert header[:7] == ["Câu trả lời", "Thời điểm gửi", "Phiên bản", "Ngôn ngữ", "Phân khúc", "Khách hàng", "Email"]
    assert header[7].startswith("v1 Q1: ")
    by_column = dict(zip(header, first, strict=True))
    assert by_column["Khách hàng"] == "'=cmd|' /C calc'!A0"
    assert first[header.index(next(h for h in header if h.endswith("Kênh")))] == "Trực tuyến"
    assert first[header.index(next(h for h in header if h.endswith("Chủ đề")))] == "Giá; Nhân viên"
    assert '\'=HYPERLINK("http://evil.example","bấm")' in first
    assert first[7] == "9" and second[7] == "3" and second[4] == "corporate"
    assert "Giao hàng chậm\nlần thứ hai" in second  # a line break stays inside its cell
    assert first[1] < second[1]  # oldest first, local time "YYYY-MM-DD HH:MM"


def test_the_segment_filter_applies_and_the_status_is_json(qm_client, survey_with_answers,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        job = run_export(qm_client, survey_with_answers, segment="retail")
    status = qm_client.get(reverse("export_detail", args=[job.pk]), HTTP_ACCEPT="application/json").json()
    assert status == {"status": "done", "progress": 100, "rows": 1}
    # The downloaded file says which segment it holds; the whole survey's export of the same period does not.
    name = f"lang-nghe-{survey_with_answers.pk}-{job.start:%Y%m%d}-{job.end:%Y%m%d}"
    download = qm_client.get(reverse("export_download", args=[job.pk]))
    assert f'filename="{name}-retail.csv"' in download["Content-Disposition"]
    with django_capture_on_commit_callbacks(execute=True):
        whole = run_export(qm_client, survey_with_answers)
    assert f'filename="{name}.csv"' in qm_client.get(reverse("export_download", args=[whole.pk]))["Content-Disposition"]


def test_an_xlsx_export_keeps_numbers_and_text_apart(
    qm_client, survey_with_answers, django_capture_on_commit_callbacks, tmp_path
):
    with django_capture_on_commit_callbacks(execute=True):
        job = run_export(qm_client, survey_with_answers, fmt="xlsx")
    download = qm_client.get(reverse("export_download", args=[job.pk]))
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"".join(download.streaming_content))
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][7] == 9 and isinstance(rows[1][0], int)
    assert rows[1][5] == "'=cmd|' /C calc'!A0"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere


def test_wrong_filters_start_no_export(qm_client, survey_with_answers):
    response = qm_client.post(reverse("export_new"), {"survey": "x", "format": "pdf"})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert ExportJob.objects.count() == 0
    assert "không bắt đầu được" in qm_client.get(reverse("dashboard")).content.decode()


def test_a_failed_export_says_so_and_a_missing_file_is_a_404(qm_client, survey_with_answers, monkeypatch):
    from reports import exports

    job = ExportJob.objects.create(created_by=survey_with_answers.owner, survey=survey_with_answers,
                                   start=TODAY, end=TODAY)  # fmt: skip
    monkeypatch.setattr(exports, "write_csv", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        exports.export_run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "disk full"
    assert "Xuất dữ liệu thất bại" in qm_client.get(reverse("export_detail", args=[job.pk])).content.decode()
    assert qm_client.get(reverse("export_download", args=[job.pk])).status_code == 404
    assert list(exports.export_dir().glob(f"{job.pk}-*")) == []  # no partial file left


def test_old_exports_are_removed_with_their_files(qm, survey_with_answers):
    from reports.exports import export_create, export_dir, export_run, exports_remove_old

    job = export_create(user=qm, survey=survey_with_answers, start=TODAY, end=TODAY, segment="", fmt="csv",
                        language="vi")  # fmt: skip
    export_run(job.pk)
    job.refresh_from_db()
    assert (export_dir() / job.file_name).exists()
    assert exports_remove_old(now=timezone.now() + timedelta(days=8)) == 1
    assert not (export_dir() / job.file_name).exists() and not ExportJob.objects.exists()


def test_export_times_are_local_to_the_second_and_titles_in_the_readers_language(
    qm_client, django_capture_on_commit_callbacks, settings
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    survey = make_survey(kind="nps")
    survey.title_en, survey.title_vi = "Relationship survey", "Khảo sát quan hệ"
    survey.save()
    # 01:02:03 UTC is 08:02:03 in Ho Chi Minh City (UTC+7).
    make_response(survey, 9, at=datetime(TODAY.year, TODAY.month, TODAY.day, 1, 2, 3, tzinfo=ZoneInfo("UTC")))
    with django_capture_on_commit_callbacks(execute=True):
        job = run_export(qm_client, survey)
    body = b"".join(qm_client.get(reverse("export_download", args=[job.pk])).streaming_content)
    (_header, row) = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert row[1] == f"{TODAY.isoformat()} 08:02:03"
    listing = qm_client.get(reverse("export_list")).content.decode()
    assert "Khảo sát quan hệ" in listing and "Relationship survey" not in listing
    breadcrumb = qm_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert "Khảo sát quan hệ" in breadcrumb and "Relationship survey</li>" not in breadcrumb


def test_the_progress_bar_expects_one_row_per_response(qm):
    # 40 responses, each answering two NPS questions: the file will have 40 rows, and the page said "0 / 80".
    from reports.exports import export_create
    from reports.rollup import rollup_refresh

    survey = building.survey_create(owner=qm, kind="nps", title_en="Two", title_vi="Hai", with_comment=False)
    second = building.question_add(version=survey.current_version, kind="nps", text_en="App?", text_vi="Ứng dụng?")
    building.survey_activate(survey=survey)
    for _ in range(40):
        Answer.objects.create(response=make_response(survey, 9), question=second, number=3)
    rollup_refresh()
    job = export_create(user=qm, survey=survey, start=TODAY, end=TODAY, segment="", fmt="csv", language="vi")
    assert job.expected_rows == 40


def test_a_running_export_counts_its_rows_as_the_reader_writes_numbers(qm_client, qm):
    survey = make_survey(owner=qm)
    today = timezone.localdate()
    job = ExportJob.objects.create(
        created_by=qm, survey=survey, start=today, end=today, status="running", expected_rows=20000, rows=1500
    )
    page = qm_client.get(reverse("export_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<span data-field="rows">1.500</span> / 20.000' in page
