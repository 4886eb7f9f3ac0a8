"""The Celery app. Configuration comes from Django settings under the CELERY_ namespace."""

import contextlib
import os
import threading
import time

from celery import Celery, signals

from config.brokerfix import release_slot_when_an_ack_fails

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lang_nghe")
release_slot_when_an_ack_fails()  # config/brokerfix.py: a Redis timeout must not leave a worker deaf
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

WORKER_HEARTBEAT_KEY = "langnghe:heartbeat:worker"
WORKER_HEARTBEAT_SECONDS = 10


@signals.setup_logging.connect(weak=False)
def _django_logging(**kwargs: object) -> None:
    # Connecting here stops Celery from configuring logging itself: Django's LOGGING (JSON lines) applies.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.worker_ready.connect(weak=False)
def _start_heartbeat(**kwargs: object) -> None:
    """A worker's main process says every few seconds, in Redis, that it is alive (read by /readyz/)."""
    import redis

    from config.debounce import redis_client

    client = redis_client()
    if client is None:
        return

    def beat() -> None:
        while True:
            with contextlib.suppress(redis.RedisError):  # the broker is away; the heartbeat resumes with it
                client.set(WORKER_HEARTBEAT_KEY, str(time.time()), ex=WORKER_HEARTBEAT_SECONDS * 6)
            time.sleep(WORKER_HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="langnghe-heartbeat", daemon=True).start()


@signals.task_prerun.connect(weak=False)
def _task_started(sender: object = None, **kwargs: object) -> None:
    from config.debounce import task_started

    name = getattr(sender, "name", None)
    if name and not app.conf.task_always_eager:
        task_started(name)


def _connect_logs() -> None:
    from config.logs import connect_celery_signals

    connect_celery_signals()


_connect_logs()
