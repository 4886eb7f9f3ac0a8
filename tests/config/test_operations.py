"""What an operator relies on: health that tells the truth, JSON logs without secrets, time limits per role, and a
stack that restarts itself."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from config import health
from config.logs import ContextFilter, JsonFormatter, mask
from tests.factories import make_invitation

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = Client().get("/healthz/")
    assert page.status_code == 200 and page.json() == {"status": "ok"}


def test_readyz_reports_each_part_as_json(settings):
    page = Client().get("/readyz/")
    data = page.json()
    assert data["checks"]["database"] is True and data["checks"]["outbox"] is True
    assert data["outbox_oldest_due_seconds"] is None  # nothing waiting
    if settings.REDIS_URL:  # CI: a broker, but no worker or beat runs in a unit test: truthfully not ready
        assert data["checks"]["broker"] is True and data["checks"]["beat"] is False
        assert page.status_code == 503 and data["status"] == "not ready"
    else:  # embedded: no broker, tasks run in-process
        assert page.status_code == 200 and data["status"] == "ready", data


def test_readyz_with_the_database_down_is_a_json_503_not_a_500_page(monkeypatch):
    def down():
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(health, "_database", down)
    page = Client().get("/readyz/")
    assert page.status_code == 503 and page["Content-Type"] == "application/json"
    data = page.json()
    assert data["checks"]["database"] is False and "Connection refused" in data["database"]["error"]


def test_readyz_says_not_ready_when_work_waits_undispatched(monkeypatch):
    monkeypatch.setattr(
        health,
        "_database",
        lambda: {"database": {"ok": True}, "outbox_oldest_due_seconds": 600.0, "dispatcher_seconds_ago": 1.0},
    )
    page = Client().get("/readyz/")
    assert page.status_code == 503 and page.json()["checks"]["outbox"] is False


def test_readyz_does_not_hang_on_a_hung_probe(monkeypatch):
    import threading

    release = threading.Event()

    def hung():
        release.wait(30)
        return {}

    monkeypatch.setattr(health, "PROBE_SECONDS", 0.2)
    monkeypatch.setattr(health, "_database", hung)
    try:
        ready, report = health.readiness()
    finally:
        release.set()
    assert ready is False and report["database"] == {"ok": False, "error": "timeout"}


def test_a_database_error_in_a_request_is_a_plain_503(monkeypatch):
    from surveys.views import respond

    def fail(*args, **kwargs):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(respond, "response_submit_quick", fail)
    monkeypatch.setattr(respond, "link_for_token", fail)
    _invitation, token = make_invitation()
    page = Client().post(reverse("respond", args=[token]), {"q1": "9"})
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "Chưa có gì được lưu" in page.content.decode()


def _record(message: str, *args: object) -> dict:
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, message, args, None)
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_log_lines_are_json_with_tokens_masked():
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde"
    line = _record("Not Found: %s", f"/s/{token}/thanks/?score=9&token={token}")
    assert token not in json.dumps(line)
    assert line["message"] == "Not Found: /s/***/thanks/?score=9&token=***"
    assert set(line) >= {"time", "level", "logger", "message"}
    assert mask("/p/Zx81kk2fJq_AbCd/ and /u/signed.token:xyz/ and /c/abc123:def/") == "/p/***/ and /u/***/ and /c/***/"
    assert mask("/surveys/12/edit/") == "/surveys/12/edit/"  # ordinary paths stay readable


@pytest.mark.parametrize("name", ["django", "django.request", "django.server", "django.security.csrf"])
def test_every_handler_a_django_line_reaches_masks_tokens(name):
    """Django's own default handlers stayed on its loggers: under DEBUG (`make demo`) its console printed
    "Not Found: /u/<token>/" and runserver's request lines ("GET /s/<token>/") with the tokens in clear."""
    logger: logging.Logger | None = logging.getLogger(name)
    reached = []
    while logger is not None:
        reached += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]  # pytest's capture
        logger = logger.parent if logger.propagate else None
    assert reached
    for handler in reached:
        assert any(isinstance(f, ContextFilter) for f in handler.filters), (name, handler)


def _access_line(path: str) -> dict:
    """The line gunicorn's access log (gunicorn.conf.py) writes for a GET of `path`."""
    import importlib.util
    from datetime import timedelta

    from gunicorn.config import Config

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    config = Config()
    config.set("accesslog", "-")
    logger, lines = conf.JsonAccessLogger(config), []
    logger.access_log.info = lines.append

    class Answer:
        status, headers, sent = "200 OK", [], 0

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "REMOTE_ADDR": "198.51.100.7"}
    logger.access(Answer(), None, environ, timedelta(milliseconds=3))
    return json.loads(lines[0])


def test_password_reset_and_email_confirmation_links_are_masked_in_the_access_log(qm):
    """Whoever reads a log must not be able to set a staff member's password or confirm a customer's address."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from surveys.public import _token, contact_claim_create
    from tests.factories import make_response, make_survey

    reset_token = default_token_generator.make_token(qm)
    uid = urlsafe_base64_encode(force_bytes(qm.pk))
    reset = reverse("password_reset_confirm", args=[uid, reset_token])
    claim = contact_claim_create(response=make_response(make_survey(), 9), email="lan@example.com", language="vi")
    confirm_token = _token(claim.token_salt)
    for path, token in ((reset, reset_token), (reverse("contact_confirm", args=[confirm_token]), confirm_token)):
        line = _access_line(path)
        assert token not in json.dumps(line) and "***" in line["path"], line
        assert token not in json.dumps(_record("Not Found: %s", path))
    # The pages around them stay readable.
    assert _access_line(reverse("password_reset_confirm", args=[uid, "set-password"]))["path"].endswith("set-password/")
    assert _access_line(reverse("password_reset_done"))["path"] == reverse("password_reset_done")


def test_each_request_has_an_id_and_a_user_in_its_log_lines(qm, rf):
    from django.http import HttpResponse

    from config import logs

    page = Client().get("/healthz/", HTTP_X_REQUEST_ID="proxy-abc-123456")
    assert page["X-Request-ID"] == "proxy-abc-123456"  # the proxy's id, when it is a sane one
    bad = Client().get("/healthz/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert bad["X-Request-ID"] != "bad id with spaces" and len(bad["X-Request-ID"]) == 32
    lines = []

    def view(request):
        lines.append(_record("inside the view"))
        return HttpResponse()

    middleware = logs.RequestContextMiddleware(lambda request: (middleware.process_view(request), view(request))[1])
    request = rf.get("/", HTTP_X_REQUEST_ID="req-0000000001")
    request.user = qm
    middleware(request)
    assert (lines[0]["request_id"], lines[0]["user_id"]) == ("req-0000000001", str(qm.pk))
    assert "request_id" not in _record("after the request")  # the context ends with the request


SETUP = "django.setup();"


def test_time_limits_differ_by_role_and_the_web_timeout_is_above_the_statement_timeout():
    code = (
        "from django.conf import settings as s;"
        "o=s.DATABASES['default']['OPTIONS'];"
        "print(o['options'], s.DATABASES['default']['CONN_HEALTH_CHECKS'],"
        " s.WEB_TIMEOUT * 1000 > s.DB_STATEMENT_TIMEOUT_MS)"
    )
    out = {}
    for role in ("web", "worker"):
        env = {"PROCESS_ROLE": role, "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "PATH": "/usr/bin:/bin"}
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-c",
                f"import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';django.setup();{code}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        out[role] = result.stdout.strip()
    assert out["web"] == "-c statement_timeout=10000 -c lock_timeout=3000 True True"
    assert out["worker"] == "-c statement_timeout=600000 -c lock_timeout=30000 True False"


def test_every_service_restarts_on_its_own_and_has_a_memory_limit():
    import re

    compose = (ROOT / "docker-compose.yml").read_text()
    services = re.split(r"\n  (?=\w+:)", compose.split("\nservices:\n", 1)[1].split("\nvolumes:", 1)[0])
    names = [block.split(":", 1)[0].strip() for block in services]
    assert names == ["db", "redis", "web", "worker", "beat"]
    for block in services:
        name = block.split(":", 1)[0].strip()
        assert "restart: unless-stopped" in block or "<<: *app" in block, name
        assert "mem_limit:" in block, name
    assert "--max-tasks-per-child=" in compose and "--max-memory-per-child=" in compose
    # Respondents first: the catch-up worker weighs less than the web when the cores are busy.
    worker = next(block for block in services if block.startswith("worker:"))
    assert int(re.search(r"cpu_shares: (\d+)", worker)[1]) < 1024
