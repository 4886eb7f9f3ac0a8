from __future__ import annotations

import pytest
from django.test import Client

from config.celery import app as celery_app
from tests.factories import quality_manager, staff_user
from tests.helpers import set_eager


@pytest.fixture(autouse=True)
def _eager_celery(request: pytest.FixtureRequest):
    """Unit tests run tasks in-process even when REDIS_URL is set (CI); integration tests use a real worker."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    set_eager(True)
    yield
    set_eager(previous)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language: LocaleMiddleware activates a request's language in the thread and
    never resets it, so a test ending on an English request made the next test's messages English."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_survey_cache():
    # Ids can be reused after a test's rollback; never let one test see another's cached survey.
    from api import keys
    from surveys.campaigns import messages as mailing
    from surveys.responding import snapshot_cache_clear

    snapshot_cache_clear()
    mailing._shared = None  # a campaign's per-process templates, likewise
    keys._checked.clear()  # and the API keys checked lately
    yield
    snapshot_cache_clear()
    mailing._shared = None
    keys._checked.clear()


@pytest.fixture
def qm(db):
    return quality_manager(username="qm", first_name="Lan", last_name="Nguyễn")


@pytest.fixture
def staff(db):
    return staff_user(username="staff1")


@pytest.fixture
def qm_client(qm) -> Client:
    client = Client()
    client.force_login(qm)
    return client


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path):
    """Files a test writes (exports) go to its own folder, never to the project's var/."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
