"""gunicorn settings for the web process: `gunicorn -c gunicorn.conf.py config.wsgi:application`.

The timeout sits above PostgreSQL's statement timeout for the web role (config/settings.py), so a request killed
here was already past any statement that could commit. The access log is one JSON object per line, with survey
tokens and other secrets in the path masked (config/logs.py).
"""

import gc
import json
import os

from gunicorn.glogging import Logger

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
# Restart each worker after this many requests (with jitter), so a slow leak cannot grow for ever.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("WEB_MAX_REQUESTS_JITTER", "500"))
# The master imports the application once and each worker is a fork of it: a worker restarted by max_requests (or
# after its timeout) costs a fork, not a second of CPU importing Django and the project again under load. Code is
# therefore read at start only: deploy by restarting the service (a HUP reloads the settings, not the code).
preload_app = True
accesslog = "-"
errorlog = "-"
raw_env = ["PROCESS_ROLE=web"]


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        from config.logs import mask

        headers = dict(resp.headers) if isinstance(resp.headers, list) else {}
        entry = {
            "level": "INFO",
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD"),
            "path": mask(environ.get("PATH_INFO", "")),
            "query": mask("?" + environ["QUERY_STRING"]) if environ.get("QUERY_STRING") else "",
            "status": resp.status_code if hasattr(resp, "status_code") else str(resp.status).split()[0],
            "bytes": getattr(resp, "sent", None),
            "ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("X-Request-ID", ""),
            "remote": environ.get("REMOTE_ADDR"),
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


logger_class = JsonAccessLogger


def when_ready(server):  # type: ignore[no-untyped-def]
    # In the master, before the first fork: the URL patterns (and the language-prefix check the locale middleware
    # makes) are read once here instead of on each new worker's first request.
    if not server.cfg.preload_app:
        return
    from django.conf import settings
    from django.conf.urls.i18n import is_language_prefix_patterns_used
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loads and caches them
    is_language_prefix_patterns_used(settings.ROOT_URLCONF)


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    # A worker must never share a database connection with the master or a sibling: the master holds none.
    from django.db import connections

    connections.close_all()
    # The objects the master loaded are moved out of the collector's reach, so a worker's collections do not
    # write to (and so copy) the memory pages it shares with the master and its siblings.
    gc.freeze()
