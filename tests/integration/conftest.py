"""Fixtures of the fault tests: each starts, breaks and stops its own Redis, SMTP server and worker."""

import pytest
from django.db import connection

from tests.helpers import require, set_eager
from tests.integration.services import RedisServer, SmtpServer, WebServer, Worker, use_broker


@pytest.fixture
def own_redis(tmp_path):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    require(RedisServer.available(), "needs redis-server on the PATH (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    undo = use_broker(server.url)
    set_eager(False)
    yield server
    undo()
    server.stop()


@pytest.fixture
def own_smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = Worker(tmp_path, **kwargs)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def web_servers(own_redis, tmp_path):
    """Start gunicorn on the test's own Redis: `web_servers(**env)`; stopped at the end."""
    started: list[WebServer] = []

    def start(**env: str) -> WebServer:
        server = WebServer(tmp_path, broker=own_redis.url, **env)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
