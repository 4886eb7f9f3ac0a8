"""kombu's Redis QoS releases a message's prefetch slot even when Redis fails to answer the acknowledgement
(config/brokerfix.py); otherwise a worker with prefetch 1 never takes another task
(tests/integration/test_redis_hung.py)."""

import pytest
import redis
from kombu.transport import redis as kombu_redis

import config.celery  # noqa: F401 - applies the fix, as every worker does


class _HungPipe:
    def execute(self):
        raise redis.TimeoutError("Timeout reading from socket")


@pytest.mark.parametrize("how", ["ack", "reject"])
def test_a_timed_out_acknowledgement_frees_the_slot(how, monkeypatch):
    qos = kombu_redis.QoS.__new__(kombu_redis.QoS)
    qos.prefetch_count = 1
    qos._delivered = {"tag-1": object()}
    qos._dirty = set()
    qos._quick_ack = lambda tag: qos._delivered.pop(tag)
    monkeypatch.setattr(qos, "_remove_from_indices", lambda tag: _HungPipe(), raising=False)
    assert not qos.can_consume()
    with pytest.raises(redis.TimeoutError):  # kombu still logs "Couldn't ack"; the message is redelivered later
        getattr(qos, how)("tag-1")
    assert qos.can_consume()  # the worker takes its next task
