"""Item 6 (and 5's start-up half): production refuses the published development key, a wildcard host, an http://
site URL and a cache that is not shared between processes; with safe settings `check --deploy` is clean."""

from __future__ import annotations

import pytest

from tests.test_settings import run

SAFE = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "q" * 50 + "-Zq9!x7",
    "ALLOWED_HOSTS": "survey.example.org",
    "SITE_URL": "https://survey.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/11",
}


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production", "published development key"),
        ("SECRET_KEY", "short", "shorter than 32"),
        ("ALLOWED_HOSTS", "*", "wildcard"),
        ("ALLOWED_HOSTS", "survey.example.org,*", "wildcard"),
        ("SITE_URL", "http://survey.example.org", "https://"),
        ("REDIS_URL", "", "REDIS_URL must be set"),
    ],
)
def test_production_refuses_each_unsafe_setting(variable, value, message):
    result = run({**SAFE, variable: value}, "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_safe_production_settings_pass_the_deployment_checks():
    result = run(SAFE, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
