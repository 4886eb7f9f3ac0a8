"""A real Celery worker, through Redis, sends an invitation email that a customer can then answer."""

import email
import os
import re
import subprocess
import sys
import time
import uuid
from email import policy
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

from surveys.models import Invitation
from surveys.tasks import invitation_email
from tests.factories import CustomerFactory, make_invitation
from tests.helpers import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _redis_ok() -> bool:
    if not settings.REDIS_URL:
        return False
    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker(tmp_path):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    require(_redis_ok(), "needs Redis (set REDIS_URL)")
    db = connection.settings_dict
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        # The worker must see the test database, where this test's rows are committed.
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SITE_URL": settings.SITE_URL,
    }
    if "TEST_SMTP_PORT" not in env:  # emails go to files unless a test runs its own SMTP server
        env.pop("EMAIL_HOST", None)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue, tmp_path / "mail"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_sends_the_invitation_once_and_its_link_works(worker, tmp_path):
    queue, mail_dir = worker
    invitation, _token = make_invitation(customer=CustomerFactory(email="lan@example.com", language="vi"))
    invitation_email.apply_async(args=[invitation.pk], queue=queue)
    invitation_email.apply_async(args=[invitation.pk], queue=queue)  # a duplicate delivery
    sent = _wait(lambda: Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=False).exists())
    assert sent, (tmp_path / "worker.log").read_text()[-3000:]
    assert _wait(lambda: mail_dir.exists() and len(list(mail_dir.iterdir())) >= 1)
    time.sleep(2)  # give the duplicate time to be (not) sent
    files = list(mail_dir.iterdir())
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    messages = [m for m in messages if m["To"]]
    assert len(messages) == 1, (tmp_path / "worker.log").read_text()[-3000:]
    message = messages[0]
    assert message["To"] == "lan@example.com"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Kính gửi" in body
    path = re.search(r"http://127\.0\.0\.1:8000(/s/[A-Za-z0-9_-]{43}/)", body).group(1)
    page = Client().get(path)
    assert page.status_code == 200 and "<form" in page.content.decode()
