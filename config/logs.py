"""Logs an operator can read: one JSON object per line, with the request, user and task it belongs to.

A request id (the proxy's X-Request-ID when it is a sane value, else a new one) and the user id are kept in context
variables for the request; Celery's signals set the task id and name for a task. Survey tokens, unsubscribe tokens,
public keys and signed tracking ids travel in URLs: every message and URL that reaches a log has them masked, since
a leaked log line must not answer a customer's survey or read their complaint.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_user_id: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="")
_task_id: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")
_task_name: contextvars.ContextVar[str] = contextvars.ContextVar("task_name", default="")

# Path segments that are secrets: /s/<token>/, /p/<key>/, /c/<signed id>/, /u/<token>/, /unsubscribe/<token>/,
# /confirm/<token>/ (a public answer's email claim) and a password reset's token (which sets the password; the
# page it leads to, .../set-password/, holds none).
_SECRET_PATH = re.compile(
    r"(/(?:s|p|c|u|unsubscribe|track|confirm)/|/password/reset/[^/?#\s\"']+/(?!set-password/))([^/?#\s\"']{6,})"
)
_SECRET_QUERY = re.compile(r"([?&](?:token|key|password|secret|signature)=)[^&#\s\"']+", re.IGNORECASE)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def mask(text: str) -> str:
    """`text` with every secret path segment and query value replaced by ***."""
    return _SECRET_QUERY.sub(r"\1***", _SECRET_PATH.sub(r"\1***", text))


class ContextFilter(logging.Filter):
    """Adds the context to every record and masks secrets in its message, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.user_id = _user_id.get()
        record.task_id = _task_id.get()
        record.task_name = _task_name.get()
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "user_id", "task_id", "task_name"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestContextMiddleware:
    """First in the chain: every line logged while handling a request carries its id; the id goes back in a header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        tokens = (_request_id.set(rid), _user_id.set(""))
        try:
            response = self.get_response(request)
            response.headers["X-Request-ID"] = rid
            return response
        finally:
            _request_id.reset(tokens[0])
            _user_id.reset(tokens[1])

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        # By now the authentication middleware has run: the lines the view logs carry the user.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            _user_id.set(str(user.pk))


def connect_celery_signals() -> None:
    """Task id and name in every line a task logs; start, retry and failure at INFO (success is Celery's own)."""
    from celery import signals

    logger = logging.getLogger("config.tasks")

    @signals.task_prerun.connect(weak=False)
    def _started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
        _task_id.set(task_id or "")
        _task_name.set(getattr(task, "name", ""))
        logger.info("task started")

    @signals.task_postrun.connect(weak=False)
    def _finished(**kwargs: Any) -> None:
        _task_id.set("")
        _task_name.set("")

    @signals.task_retry.connect(weak=False)
    def _retry(request: Any = None, reason: Any = None, **kwargs: Any) -> None:
        logger.info("task retry: %s", reason)

    @signals.task_failure.connect(weak=False)
    def _failure(task_id: str = "", exception: BaseException | None = None, **kwargs: Any) -> None:
        logger.info("task failed: %s: %s", type(exception).__name__, exception)
