"""Production refuses to start without its secrets, and passes Django's deployment checks when given them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "SITE_URL",
            "DEBUG",
            "DJANGO_ENV",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "REDIS_URL",
        }
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_each_secret():
    full = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "survey.example.org",
        "SITE_URL": "https://survey.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/11",
    }
    for missing in ("SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"):
        env = {k: v for k, v in full.items() if k != missing}
        result = run(env, "check")
        assert result.returncode != 0
        assert f"{missing} must be set" in result.stderr


def test_debug_off_counts_as_production():
    result = run({"DEBUG": "0"}, "check")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_bad_boolean_is_reported_by_name():
    result = run({"DEBUG": "maybe"}, "check")
    assert result.returncode != 0 and "DEBUG must be one of" in result.stderr


def test_check_deploy_reports_nothing_with_production_settings():
    result = run(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "k" * 64 + "-Zq9!",
            "ALLOWED_HOSTS": "survey.example.org",
            "SITE_URL": "https://survey.example.org",
            "REDIS_URL": "redis://127.0.0.1:6379/11",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
