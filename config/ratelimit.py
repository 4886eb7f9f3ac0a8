"""The project's one rate limiter, and the one answer to "who is the client?".

Counts live in the default cache. In production that cache must be shared by every process (Redis): settings refuse
to start otherwise, because a per-process count lets N workers accept N times the limit. Each scope (public link,
complaint form, bad tokens, password-reset mail) has its own keys, so a flood on one never blocks another; logging
in is limited separately, by django-axes (accounts/).

When the cache cannot be reached the limiter lets the request through and logs it: a customer's answer matters more
than a limit, and a 500 on every public page would be worse than a few requests over it.
"""

from __future__ import annotations

import hashlib
import logging
from ipaddress import ip_address

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The real client's address. Behind `TRUSTED_PROXY_COUNT` proxies, each of which appends the address it saw to
    X-Forwarded-For, the client is the entry that many places from the right: everything left of it was written by
    the client itself and proves nothing. With no trusted proxy (the default) the header is ignored."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "unknown"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        # The request did not come through every trusted proxy: the nearest one we can see is the client.
        return remote
    return _valid_ip(forwarded[-hops]) or remote


def client_ip(request: HttpRequest) -> str | None:
    """client_address() for django-axes, which stores it in an IP address column: None when it is not one."""
    address = client_address(request)
    return None if address == "unknown" else address


def _key(scope: str, key: str) -> str:
    # Hashed: keys may hold email addresses, and the cache is no place for personal data.
    return "rl:" + scope + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]


def hit(scope: str, key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one event for (scope, key); True while the count is within `limit` per `window` seconds.

    A fixed window starting at the first event: simple, one round trip to Redis in the common case (incr), and
    good enough for limits meant to stop floods rather than to meter."""
    name = _key(scope, key)
    try:
        try:
            count = cache.incr(name)
        except ValueError:  # no such key yet (or it expired): start the window
            count = 1 if cache.add(name, 1, timeout=window) else cache.incr(name)
    except Exception:  # noqa: BLE001 - any cache failure: degrade open, never a 500 on a public page
        log.warning("rate limit %s not checked: the cache is unreachable", scope, exc_info=True)
        return True
    return count <= limit


def over(scope: str, key: str, *, limit: int, window: int = 3600) -> bool:
    """Whether (scope, key) has already passed its limit, without counting anything."""
    try:
        count = cache.get(_key(scope, key), 0)
    except Exception:  # noqa: BLE001 - see hit()
        log.warning("rate limit %s not checked: the cache is unreachable", scope, exc_info=True)
        return False
    return count > limit
