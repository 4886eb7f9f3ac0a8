import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _no_cached_subscribers():
    from webhooks.events import subscribers_changed

    subscribers_changed()
    yield
    subscribers_changed()


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def private_ok(settings):
    """The test receiver listens on 127.0.0.1, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return settings


@pytest.fixture
def endpoint(db, qm, receiver, private_ok):
    from webhooks.models import EventType
    from webhooks.services import endpoint_create

    return endpoint_create(url=receiver.url, events=list(EventType.values), actor=qm)
