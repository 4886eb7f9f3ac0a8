"""The web master loads the application once (gunicorn.conf.py's preload_app) and each worker is a fork of it. A
worker recycled after its max_requests is replaced by a fork that answers at once, and no two processes share a
database connection: the master holds none."""

from pathlib import Path
from urllib.parse import urlencode

import pytest

from surveys.models import Response
from tests.factories import make_invitation, make_survey
from tests.integration.services import http_request

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _postgres_sockets(pid: int) -> int:
    """How many TCP connections to port 5432 the process holds (its socket inodes matched in /proc/net/tcp*)."""
    inodes = set()
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # a worker that was just recycled
        return 0
    for fd in descriptors:
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(":1538") and fields[9] in inodes:  # 0x1538 = 5432
                found += 1
    return found


def test_recycled_workers_answer_at_once_and_the_master_holds_no_database_connection(web_servers):
    server = web_servers(WEB_MAX_REQUESTS="4", WEB_MAX_REQUESTS_JITTER="0")
    survey = make_survey(kind="nps")
    question = survey.current_version.questions.order_by("position").first()
    links = [token for _invitation, token in (make_invitation(survey=survey) for _ in range(24))]
    first_workers = server.worker_pids()

    seen_workers = set(first_workers)
    statuses = []
    for token in links:
        status, _body = http_request(server.port, "POST", f"/s/{token}/", urlencode({f"q{question.pk}": "9"}))
        statuses.append(status)
        seen_workers |= server.worker_pids()

    # every answer was taken (a 302 to the thank-you page) and stored, through several recycled workers
    assert statuses == [302] * len(links)
    assert Response.objects.filter(survey=survey).count() == len(links)
    assert len(seen_workers) >= len(first_workers) + 3
    assert server.process is not None
    # the master imported the application (its database driver is mapped in it) yet holds no connection
    assert "psycopg2" in Path(f"/proc/{server.process.pid}/maps").read_text()
    assert _postgres_sockets(server.process.pid) == 0
    assert all(_postgres_sockets(pid) <= 1 for pid in server.worker_pids())
