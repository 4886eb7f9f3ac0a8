"""schemathesis against a live server: every endpoint, generated inputs and the stateful links, with a seeded write
key. No answer may be a server error, and every answer must match the schema (status, content type, body)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from api.keys import apikey_create
from tests.factories import CustomerFactory, make_response, make_survey, quality_manager
from tests.helpers import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(live_server, settings, tmp_path):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    cli = Path(sys.executable).with_name("schemathesis")
    require(cli.exists() or shutil.which("schemathesis") is not None, "needs schemathesis (make install)")
    settings.API_RATE_PER_MINUTE = 1_000_000
    manager = quality_manager(username="schemathesis")
    survey = make_survey(owner=manager)
    for score in (0, 7, 10):
        make_response(survey, score, customer=CustomerFactory())
    _key, secret = apikey_create(name="schemathesis", scope="write", actor=manager)
    run = subprocess.run(  # noqa: S603 - our own virtualenv's command, fixed arguments
        [
            str(cli),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--header",
            f"Authorization: Bearer {secret}",
            "--checks",
            CHECKS,
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"),
            "--seed",
            "14",
            "--request-timeout",
            "20",
            "--phases",
            "examples,coverage,fuzzing,stateful",
        ],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "15/15" in run.stdout or "Tested: 15" in run.stdout, report
