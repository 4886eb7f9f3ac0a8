"""A worker that keeps taking tasks after Redis failed to answer an acknowledgement (kombu 5.6's Redis transport).

kombu counts each message a worker holds against the prefetch limit until it is acknowledged. Its Redis transport
removes a finished message from Redis first and releases the slot only if that worked. With Redis hung (SIGSTOP)
for longer than the socket timeout, the acknowledgement of a task that finished meanwhile times out. kombu logs
"Couldn't ack" and carries on, but the slot is never released. A worker with prefetch 1 (ours, with late
acknowledgement) then has no free slot: it stays alive and answers, and never takes another task
(tests/integration/test_redis_hung.py; a worker with N processes goes deaf after N such timeouts).

Here the slot is released whatever Redis answered. The message stays in Redis's unacknowledged set when the
command did not reach it, and is delivered again after the visibility timeout (settings). Every task of the project
can run twice (the outbox and the invitations' states hold the record), so a late duplicate costs nothing.
"""

from __future__ import annotations

from typing import Any


def release_slot_when_an_ack_fails() -> None:
    from kombu.transport import redis as kombu_redis
    from kombu.transport import virtual

    qos = kombu_redis.QoS
    if getattr(qos.ack, "releases_slot", False):
        return

    def ack(self: Any, delivery_tag: Any) -> None:
        try:
            self._remove_from_indices(delivery_tag).execute()
        finally:
            virtual.QoS.ack(self, delivery_tag)

    def reject(self: Any, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            if requeue:
                self.restore_by_tag(delivery_tag, leftmost=True)
            else:
                self._remove_from_indices(delivery_tag).execute()
        finally:
            virtual.QoS.ack(self, delivery_tag)

    ack.releases_slot = True  # type: ignore[attr-defined]
    qos.ack, qos.reject = ack, reject
