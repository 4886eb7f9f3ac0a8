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
import secrets
from ipaddress import IPv6Address, ip_address
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

log = logging.getLogger(__name__)


def _valid_ip(value: str) -> str | None:
    """The address as the limits count it, or None when `value` is no address.

    An IPv6 client counts by its /64: that is one subscriber's network (RFC 6177), whose every address its owner
    may use, so counting per address gave an attacker 2^64 fresh counts. An IPv4 address in IPv6 form (a
    dual-stack socket's ::ffff:198.51.100.7) is that IPv4 client."""
    try:
        ip = ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(IPv6Address(int(ip) >> 64 << 64))
    return str(ip)


def _forwarded_ip(entry: str) -> str | None:
    """An X-Forwarded-For entry as _valid_ip reads it. Some proxies (Azure's, IIS ARR, some ingress setups) write the
    client's port too, "203.0.113.7:4711" or "[2001:db8::1]:443", which is no address: read as one it fell back to
    REMOTE_ADDR, and then every client behind the proxy shared the proxy's one count. A bare IPv6 address has
    colons of its own, so a port is taken off only after a bracketed address or an IPv4 address (one colon)."""
    entry = entry.strip()
    if entry.startswith("["):
        host, bracket, port = entry[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and _is_port(port[1:]))):
            return None
        return _valid_ip(host)
    host, colon, port = entry.partition(":")
    if colon and ":" not in port:
        return _valid_ip(host) if "." in host and _is_port(port) else None
    return _valid_ip(entry)


def _is_port(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 5 and int(value) <= 65535


def client_address(request: HttpRequest) -> str:
    """The real client's address (an IPv6 client's /64, see _valid_ip). Behind `TRUSTED_PROXY_COUNT` proxies, each
    of which appends the address it saw to X-Forwarded-For, the client is the entry that many places from the
    right: everything left of it was written by the client itself and proves nothing. An entry may carry the
    client's port (see _forwarded_ip). With no trusted proxy (the default) the header is ignored."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "unknown"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        # The request did not come through every trusted proxy: the nearest one we can see is the client.
        return remote
    return _forwarded_ip(forwarded[-hops]) or remote


def client_ip(request: HttpRequest) -> str | None:
    """client_address() for django-axes, which stores it in an IP address column: None when it is not one."""
    address = client_address(request)
    return None if address == "unknown" else address


def _key(scope: str, key: str) -> str:
    # Hashed: keys may hold email addresses, and the cache is no place for personal data.
    return "rl:" + scope + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]


# INCR, and on the window's first event its expiry, in one atomic round trip. Django's cache.incr is two (EXISTS,
# then INCR), and an incr followed by a separate EXPIRE could leave a count that never expires.
_COUNT = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"


def _redis() -> tuple[RedisCache, Any] | None:
    """The default cache and one Redis client for it, kept: Django's cache makes a new client (copying its table of
    reply callbacks) for every operation, which cost more than the round trip here. None when it is not Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = getattr(backend._cache, "ln_client", None)
    if client is None:
        client = backend._cache.get_client(write=True)
        backend._cache.ln_client = client
    return backend, client


def _count_redis(name: str, window: int) -> int | None:
    """The count after this event, counted by Redis in one round trip; None when the cache is not Redis."""
    redis = _redis()
    if redis is None:
        return None
    backend, client = redis
    # Django's Redis cache stores integers as plain integers, so cache.get reads this count back.
    return int(client.eval(_COUNT, 1, backend.make_and_validate_key(name), window))


def hit(scope: str, key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one event for (scope, key); True while the count is within `limit` per `window` seconds.

    A fixed window starting at the first event: simple, one round trip to Redis, and good enough for limits meant to
    stop floods rather than to meter."""
    name = _key(scope, key)
    try:
        count = _count_redis(name, window)
        if count is None:
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
    name = _key(scope, key)
    try:
        redis = _redis()
        if redis is None:
            count = cache.get(name, 0)
        else:
            stored = redis[1].get(redis[0].make_and_validate_key(name))
            count = int(stored) if stored is not None else 0
    except Exception:  # noqa: BLE001 - see hit()
        log.warning("rate limit %s not checked: the cache is unreachable", scope, exc_info=True)
        return False
    return count > limit


# A caller's "may this go on?" in one round trip: whether (over) its first counter has passed its limit, without
# counting; if not, one event counted on its second (as hit() counts); and a shared value (a version stamp that
# processes compare their caches with), set to ARGV[3] when Redis has none (it was restarted empty).
_GATE = """
local over = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = 0
if over <= tonumber(ARGV[1]) then
  n = redis.call('INCR', KEYS[2])
  if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
end
local stamp = redis.call('GET', KEYS[3])
if not stamp then
  redis.call('SET', KEYS[3], ARGV[3])
  stamp = ARGV[3]
end
return {over, n, stamp}
"""


class Gate(NamedTuple):
    over: bool  # the first counter is past its limit (nothing was counted)
    allowed: bool  # the event counted on the second counter is within its limit
    stamp: str | None  # the shared version stamp; None when Redis could not be reached


def gate(*, over: tuple[str, str, int], hit: tuple[str, str, int, int], stamp: str) -> Gate | None:
    """over(*over) and then hit(*hit), and the shared `stamp` (see stamp_bump), in one round trip to Redis; None
    when the cache is not Redis (the caller then uses over() and hit()). An unreachable Redis lets the event
    through, as over() and hit() do, with no stamp."""
    redis = _redis()
    if redis is None:
        return None
    backend, client = redis
    over_scope, over_key, over_limit = over
    hit_scope, hit_key, hit_limit, window = hit
    names = [backend.make_and_validate_key(n) for n in (_key(over_scope, over_key), _key(hit_scope, hit_key), stamp)]
    try:
        counted, count, current = client.eval(_GATE, 3, *names, over_limit, window, secrets.randbelow(2**62))
    except Exception:  # noqa: BLE001 - see hit()
        log.warning("rate limits %s and %s not checked: the cache is unreachable", over_scope, hit_scope, exc_info=True)
        return Gate(over=False, allowed=True, stamp=None)
    if int(counted) > over_limit:
        return Gate(over=True, allowed=False, stamp=None)
    if isinstance(current, bytes):
        current = current.decode("ascii")
    return Gate(over=False, allowed=int(count) <= hit_limit, stamp=None if current is None else str(current))


def stamp_bump(stamp: str) -> None:
    """Change the shared version stamp, so that every process's cache keyed on it is stale from its next gate()."""
    redis = _redis()
    if redis is None:
        return
    backend, client = redis
    try:
        client.incr(backend.make_and_validate_key(stamp))
    except Exception:  # noqa: BLE001 - the caches then expire by age (api/keys.py)
        log.warning("version stamp %s not changed: the cache is unreachable", stamp, exc_info=True)
