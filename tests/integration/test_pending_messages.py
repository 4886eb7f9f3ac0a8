"""At most one message per catch-up task waits in the broker's queue, however many web processes ask for it.

Each gunicorn process has its own publisher thread (config/debounce.py); before this rule each published its own
request every window, and under load the queue held dozens of copies of the same sweeps, so that the webhook
sweep waited behind them for many seconds. Checked against a real Redis and a real worker: four publishers (four
processes' worth) asking many times leave one message in the queue; once a worker has started that task, the next
request makes one new message.
"""

import pytest
import redis

from config import debounce
from feedback.tasks import sweep_detractors
from tests.integration.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_one_waiting_message_per_task_whoever_asks(own_redis, workers):
    client = redis.Redis.from_url(own_redis.url, socket_timeout=2, socket_connect_timeout=2)
    publishers = [debounce._Publisher(start=False, pending=client) for _ in range(4)]
    for window in range(5):
        for publisher in publishers:
            for _ in range(3):
                publisher.ask(sweep_detractors, 0.5)
            publisher.flush(now=1000.0 + window)
    # Twenty windows' requests from four processes: one message waits, marked as pending.
    assert client.llen("celery") == 1
    assert client.exists(debounce.PENDING_PREFIX + sweep_detractors.name)

    worker = workers(broker=own_redis.url)
    assert wait_for(lambda: client.llen("celery") == 0, timeout=60), worker.output()
    # The worker cleared the mark as the task started: the next request is published again.
    assert wait_for(lambda: not client.exists(debounce.PENDING_PREFIX + sweep_detractors.name), timeout=30)
    worker.stop()
    publishers[0].ask(sweep_detractors, 0.5)
    publishers[0].flush(now=2000.0)
    assert client.llen("celery") == 1


def test_a_failed_publish_leaves_no_mark(own_redis, monkeypatch):
    """The broker refused the message: the next request may publish (no mark that nothing would clear)."""
    client = redis.Redis.from_url(own_redis.url, socket_timeout=2, socket_connect_timeout=2)
    publisher = debounce._Publisher(start=False, pending=client)

    def refuse(**kwargs):
        raise ConnectionError("broker away")

    monkeypatch.setattr(sweep_detractors, "apply_async", refuse)
    publisher.ask(sweep_detractors, 0.5)
    publisher.flush(now=10.0)
    assert not client.exists(debounce.PENDING_PREFIX + sweep_detractors.name)
    monkeypatch.undo()
    publisher.ask(sweep_detractors, 0.5)
    publisher.flush(now=20.0)
    assert client.llen("celery") == 1
