"""Redis hung (SIGSTOP) for 30 s while customers answer through the real web server (gunicorn, two workers), then
woken (SIGCONT). A hung Redis is worse than a dead one: connections are accepted by the kernel and then nothing
answers, so any call without a timeout waits for ever.

What a customer and an operator would notice: every stored answer got its thank-you page, and no request waited on
Redis (each took less than the Redis timeout the processes run with, so not one of them waited for it even once);
liveness answers and readiness says "not ready" quickly during the hang; afterwards the same gunicorn workers and
the same Celery worker carry on (none was restarted), and the closed loop's cases, their acknowledgements and the
rollups catch up with every answer.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.db.models import Sum

from feedback.loop import watermark_to_now
from feedback.models import CaseEvent, ComplaintCase
from reports.models import DailyRollup
from surveys.models import Response, hash_token
from tests.factories import CustomerFactory, make_invitation, make_survey
from tests.integration.services import FAST, http_request, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_TIMEOUT = 4  # seconds; every process of the test waits at most this long on one Redis call
BOUND = 3.0  # no respondent request may take this long (below REDIS_TIMEOUT: none may wait on Redis at all)
BEFORE, HUNG, AFTER = 5.0, 30.0, 10.0  # seconds of answers before, during and after the hang
RATE = 6.0  # answers a second, from 6 customers at a time
WARM = 12  # answers first sent together, so that each gunicorn worker has loaded what it loads on first use


def test_redis_hung_while_customers_answer(own_redis, web_servers, workers):
    timeouts = {"REDIS_TIMEOUT": str(REDIS_TIMEOUT)}
    worker = workers(broker=own_redis.url, beat=True, **FAST, **timeouts)
    web = web_servers(**timeouts)
    assert wait_for(lambda: "ready" in worker.output(), timeout=60), worker.output()
    survey = make_survey(kind="nps")
    question = survey.current_version.questions.order_by("position").first()
    count = int((BEFORE + HUNG + AFTER) * RATE) + WARM
    links = [make_invitation(survey=survey, customer=CustomerFactory(email=f"h{i}@example.com")) for i in range(count)]
    watermark_to_now()
    detractors = {token for n, (_invitation, token) in enumerate(links) if n % 4 == 0}
    assert wait_for(lambda: http_request(web.port, "GET", "/readyz/")[0] == 200, timeout=60)
    web_pids = web.worker_pids()
    assert len(web_pids) == 2

    def answer(n: int, start: float) -> dict:
        token = links[n][1]
        time.sleep(max(start + (n - WARM) / RATE - time.monotonic(), 0))
        score = "2" if token in detractors else "9"
        at = time.monotonic()
        status, where = http_request(web.port, "POST", f"/s/{token}/", urlencode({f"q{question.pk}": score}))
        posted = time.monotonic()
        thanks = http_request(web.port, "GET", where)[0] if status == 302 else None
        return {"token": token, "at": at, "status": status, "where": where, "post": posted - at, "thanks": thanks,
                "get": time.monotonic() - posted}  # fmt: skip

    with ThreadPoolExecutor(max_workers=4) as pool:
        warm = list(pool.map(lambda n: answer(n, 0), range(WARM)))

    started = time.monotonic()
    events: dict[str, float] = {}

    def hang() -> None:
        own_redis.pause()
        events["paused"] = time.monotonic()

    def wake() -> None:
        own_redis.resume()
        events["resumed"] = time.monotonic()

    timers = [threading.Timer(BEFORE, hang), threading.Timer(BEFORE + HUNG, wake)]
    for timer in timers:
        timer.start()

    def probe_during_the_hang() -> dict:
        time.sleep(BEFORE + HUNG / 2)
        at = time.monotonic()
        live = http_request(web.port, "GET", "/healthz/")
        ready = http_request(web.port, "GET", "/readyz/")
        return {"live": live, "ready": ready, "seconds": time.monotonic() - at}

    with ThreadPoolExecutor(max_workers=7) as pool:
        probe = pool.submit(probe_during_the_hang)
        results = list(pool.map(lambda n: answer(n, started), range(WARM, count)))
    for timer in timers:
        timer.join()
    during = [r for r in results if events["paused"] <= r["at"] < events["resumed"]]
    assert len(during) >= HUNG * RATE * 0.8  # customers did answer while Redis hung

    # Every stored answer got its thank-you page (and, the database being up, every answer was stored).
    stored = set(Response.objects.filter(survey=survey).values_list("invitation__token_hash", flat=True))
    for result in warm + results:
        assert result["status"] == 302 and "/thanks/" in result["where"], result
        assert result["thanks"] == 200 and hash_token(result["token"]) in stored, result
    assert len(stored) == count
    slowest = max(max(r["post"], r["get"]) for r in results)
    assert slowest < BOUND, sorted((max(r["post"], r["get"]), r["at"] - started) for r in results)[-5:]

    # Health told the truth, quickly: alive, not ready (the broker does not answer).
    checked = probe.result()
    assert checked["live"][0] == 200 and checked["ready"][0] == 503, checked
    assert json.loads(checked["ready"][1])["checks"]["broker"] is False and checked["seconds"] < 5, checked

    # The follow-ups catch up after Redis wakes, with no restart.
    def caught_up() -> bool:
        acknowledged = CaseEvent.objects.filter(kind=CaseEvent.Kind.EMAIL, text__startswith="acknowledgement")
        rolled = DailyRollup.objects.filter(survey=survey, question=question).aggregate(n=Sum("count"))["n"]
        cases = ComplaintCase.objects.filter(response__survey=survey).count()
        return cases == len(detractors) and acknowledged.count() == len(detractors) and rolled == count

    assert wait_for(caught_up, timeout=90, step=0.5), worker.output()
    assert wait_for(lambda: http_request(web.port, "GET", "/readyz/")[0] == 200, timeout=60), http_request(
        web.port, "GET", "/readyz/"
    )
    assert worker.alive() and worker.runs == 1, worker.output()  # the same Celery worker, never restarted
    assert web.worker_pids() == web_pids, web.output()  # the same gunicorn workers: none timed out and came back
    assert ComplaintCase.objects.filter(response__survey=survey).values("response").distinct().count() == len(
        detractors
    )
