"""Shared test helpers."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip a test whose service is missing on a developer's machine; in CI the same absence is a failure.

    CI must exercise PostgreSQL, Redis, a real Celery worker and a real browser: a silent skip there would let a
    broken integration land.
    """
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)


def set_eager(value: bool) -> None:
    """Run Celery tasks in-process (True) or through the broker. Celery 5.6 reads the Django-namespaced key before
    the plain one, so both are set."""
    from config.celery import app

    app.conf.task_always_eager = value
    app.conf["CELERY_TASK_ALWAYS_EAGER"] = value
