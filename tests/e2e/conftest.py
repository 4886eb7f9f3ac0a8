"""Real-browser tests: Playwright driving Debian's Chromium (never a downloaded browser), headless, no sandbox."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import require

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes around it are still
# plain synchronous calls, so Django's async-safety guard is lifted for these tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    require(executable is not None, "needs Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        require(False, "needs the playwright package (make test installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _close_pages(browser: Any) -> Iterator[None]:
    """Every page a test opened is closed after it: an open page (a campaign's progress polling) would go on
    calling the live server while the next test runs."""
    yield
    for context in list(browser.contexts):
        context.close()
