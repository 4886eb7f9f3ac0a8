import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from customers.models import Customer
from surveys.models import Answer, Campaign, Invitation, Response, Survey

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_logins_and_a_working_link(settings, tmp_path, caplog):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", "--customers", "300", "--responses", "3000", stdout=out)
    text = out.getvalue()
    assert not [r for r in caplog.records if "hostname" in r.getMessage()]  # no stray broker warning
    # Realistic delivery: not every invitation is answered; some were never opened, bounced or expired.
    statuses = dict(Invitation.objects.values_list("status").annotate(n=Count("id")))
    assert {"sent", "opened", "failed", "expired", "answered"} <= set(statuses)
    sent = Invitation.objects.filter(sent_at__isnull=False).count()
    assert 0.3 < statuses["answered"] / sent < 0.6, statuses
    assert Invitation.objects.filter(status="failed").exclude(status_reason="").count() == statuses["failed"]
    campaign = Campaign.objects.get()
    assert (
        campaign.invitations.filter(status="answered").exists()
        and campaign.invitations.exclude(status="answered").exists()
    )
    # An administrator who can open the admin.
    admin_password = re.search(r"quantri\s+password: (\S+)", text).group(1)
    admin = Client()
    # Through the login page: django-axes checks every authentication against its request.
    assert admin.post("/accounts/login/", {"username": "quantri", "password": admin_password}).status_code == 302
    assert admin.get("/admin/").status_code == 200 and "/admin/" in text
    assert Customer.objects.count() == 300
    assert Survey.objects.filter(status="active").count() == 3
    assert Response.objects.count() == 3000
    languages = set(Customer.objects.values_list("language", flat=True))
    assert languages == {"vi", "en"}
    assert Answer.objects.exclude(text="").filter(response__language="vi").exists()
    assert re.search(r"quanly\s+password: \S+", text) and re.search(r"nhanvien\s+password: \S+", text)
    password = re.search(r"quanly\s+password: (\S+)", text).group(1)
    client = Client()
    # Through the login page: django-axes checks every authentication against its request.
    assert client.post("/accounts/login/", {"username": "quanly", "password": password}).status_code == 302
    link = re.search(r"http://127\.0\.0\.1:8000(/s/\S+/)", text).group(1)
    assert "<form" in Client().get(link).content.decode()
    # What the command wrote is on the record, even the demo's backdated history: the trail verifies.
    from audit.models import AuditEntry

    assert AuditEntry.objects.filter(via="command", record_type="feedback.complaintcase").exists()
    call_command("audit_verify", stdout=StringIO())

    again = StringIO()
    call_command("seed_demo", "--customers", "300", "--responses", "3000", stdout=again)
    assert Customer.objects.count() == 300 and Response.objects.count() == 3000
    assert re.search(r"quanly\s+password: (\S+)", again.getvalue()).group(1) == password
    assert Client().get(re.search(r"http://127\.0\.0\.1:8000(/s/\S+/)", again.getvalue()).group(1)).status_code == 200


def test_demo_has_a_visible_dip(settings, tmp_path):
    from surveys.demo import DIP_MONTHS_AGO

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--customers", "200", "--responses", "6000", stdout=StringIO())
    from django.utils import timezone

    now = timezone.now()
    nps = Survey.objects.get(kind="nps")
    by_month: dict[int, list[int]] = {}
    for number, submitted in Answer.objects.filter(
        question__version__survey=nps, question__kind="nps", number__isnull=False
    ).values_list("number", "response__submitted_at"):
        months_ago = (now.year - submitted.year) * 12 + now.month - submitted.month
        by_month.setdefault(months_ago, []).append(number)

    def score(values):
        return 100 * (sum(v >= 9 for v in values) - sum(v <= 6 for v in values)) / len(values)

    others = [score(v) for m, v in by_month.items() if m != DIP_MONTHS_AGO and len(v) > 50]
    assert score(by_month[DIP_MONTHS_AGO]) < min(others) - 10


def test_the_demo_links_follow_the_port_it_serves_on(settings, tmp_path):
    # `make demo PORT=8120` sets SITE_URL to the served address for seed_demo and the server.
    settings.VAR_DIR, settings.SITE_URL = tmp_path, "http://127.0.0.1:8120"
    out = StringIO()
    call_command("seed_demo", "--customers", "50", "--responses", "100", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8120/accounts/login/" in text and re.search(r"http://127\.0\.0\.1:8120/s/\S+/", text)
    assert ":8000" not in text


def test_make_demo_passes_its_port_to_the_links():
    import shutil
    import subprocess
    from pathlib import Path

    from tests.helpers import require

    require(shutil.which("make") is not None, "needs make")
    root = Path(__file__).resolve().parents[2]
    make = shutil.which("make")
    dry = subprocess.run(
        [make, "-n", "demo", "PORT=8120"], cwd=root, capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert "SITE_URL=http://127.0.0.1:8120 .venv/bin/python manage.py seed_demo" in dry
    assert "SITE_URL=http://127.0.0.1:8120 .venv/bin/python manage.py runserver 127.0.0.1:8120" in dry
