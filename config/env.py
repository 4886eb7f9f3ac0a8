"""Small typed readers of the environment.

Every setting that comes from the environment is read through these helpers, in `config/settings.py` only, so that
a bad value fails loudly at start-up with the variable's name instead of surfacing later as a strange behaviour.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str) -> str:
    """A value production cannot run without: no default, and an empty value counts as missing."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production (or DEBUG is off).")
    return value


def refuse_unsafe_production(
    *, secret_key: str, development_key: str, allowed_hosts: list[str], site_url: str, redis_url: str
) -> None:
    """Production settings that would start, but unsafely: each is refused with what to do instead."""
    if secret_key == development_key or len(secret_key) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY is the published development key or shorter than 32 characters: set a long random one "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    if any(host in ("*", ".") or host.startswith("*") for host in allowed_hosts):
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's hosts; a wildcard (*) is refused.")
    if not site_url.startswith("https://"):
        raise ImproperlyConfigured(f"SITE_URL must start with https:// in production; got {site_url!r}.")
    if not redis_url:
        # Rate limits count in the cache: a per-process cache multiplies every limit by the number of workers.
        raise ImproperlyConfigured(
            "REDIS_URL must be set when DJANGO_ENV=production (or DEBUG is off): rate limits need a cache shared by "
            "every process."
        )


def redis_url_for_test_worker(url: str, worker: str) -> str:
    """The Redis URL of one pytest-xdist worker ("gw0", "gw1", ...): database (base + n) mod 16 of the same server.

    Tests call cache.clear() (FLUSHDB) and count rate-limit hits, so two workers sharing one database would wipe
    and skew each other's keys. gw0 keeps the configured database, so a serial run and a parallel one use the same
    keys; Redis has 16 databases (0-15) unless configured otherwise, hence the wrap.
    """
    from urllib.parse import urlsplit, urlunsplit

    digits = worker.removeprefix("gw")
    if not digits.isdigit():
        raise ImproperlyConfigured(f"PYTEST_XDIST_WORKER must look like gw0, gw1, ...; got {worker!r}.")
    parts = urlsplit(url)
    base = parts.path.lstrip("/")
    if base and not base.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL must end with a database number to be shared by test workers: {url!r}")
    database = (int(base or 0) + int(digits)) % 16
    return urlunsplit(parts._replace(path=f"/{database}"))
