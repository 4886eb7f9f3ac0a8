"""Who is calling: an API key in `Authorization: Bearer <key>` (or `X-API-Key`), its scope, and its rate limit.

Writes made through a key are attributed to the quality manager who made it, through the door "api" (audit/), and
the key is kept on the request so that the call log (api/middleware.py) can name it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from api.keys import STAMP, apikey_for_secret, apikey_prefix_known, hash_secret
from api.models import ApiKey
from audit.trail import acting_for_request
from config import ratelimit

# Wrong keys per client address per hour before 429: a key cannot be guessed, but a flood costs a lookup each.
BAD_KEY_SCOPE = "api-bad-key"


def _secret(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        kind, _sep, value = header.partition(" ")
        return value.strip() if kind.lower() == "bearer" else ""
    if "HTTP_X_API_KEY" in request.META:
        return request.META["HTTP_X_API_KEY"].strip()
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        secret = _secret(request)
        if secret is None:
            return None
        client = ratelimit.client_address(request._request)
        bad_keys = (BAD_KEY_SCOPE, client, settings.BAD_TOKEN_RATE_PER_HOUR)
        # With Redis, one round trip asks whether this client sent too many wrong keys, counts the call against
        # the key's rate limit (PerKeyRateLimit reads the answer), and reads the keys' version stamp, under which
        # a key checked lately is not read again (api/keys.py).
        gate = ratelimit.gate(
            over=bad_keys, hit=("api-key", hash_secret(secret), settings.API_RATE_PER_MINUTE, 60), stamp=STAMP
        )
        # Past the wrong-key limit only a secret with a real key's prefix is checked: the others cost no lookup,
        # and a valid key behind the same address (a NAT, a proxy) keeps working.
        if gate is None:  # no shared cache (the embedded defaults): the limiter's calls one by one
            cut_off = ratelimit.over(BAD_KEY_SCOPE, client, limit=settings.BAD_TOKEN_RATE_PER_HOUR)
            if cut_off and not apikey_prefix_known(secret):
                raise exceptions.Throttled(wait=3600)
            key = apikey_for_secret(secret)
        else:
            if gate.over:
                if not apikey_prefix_known(secret):
                    raise exceptions.Throttled(wait=3600)
                # The gate counts nothing past the wrong-key limit: this key's call is counted on its own.
                allowed = ratelimit.hit("api-key", hash_secret(secret), limit=settings.API_RATE_PER_MINUTE, window=60)
            else:
                allowed = gate.allowed
            request._request.api_rate_allowed = allowed  # type: ignore[attr-defined]
            key = apikey_for_secret(secret, stamp=gate.stamp)
        if key is None:
            ratelimit.hit(BAD_KEY_SCOPE, client, limit=settings.BAD_TOKEN_RATE_PER_HOUR)
            raise exceptions.AuthenticationFailed(_("This API key is not valid or has been revoked."))
        request._request.api_key = key  # type: ignore[attr-defined]
        # The request's writes are the key creator's, through the API (the audit middleware saw no signed-in user).
        acting_for_request(key.created_by, "api")
        return key.created_by, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasScope(permissions.BasePermission):
    """Any valid key reads; only a write key changes anything."""

    message = _("This API key may only read: a key with the write scope is needed.")

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated(_("Send an API key: Authorization: Bearer <key>."))
        if request.method in permissions.SAFE_METHODS:
            return True
        return key.scope == ApiKey.Scope.WRITE


class PerKeyRateLimit(throttling.BaseThrottle):
    """API_RATE_PER_MINUTE calls per key, counted by the project's one limiter (shared by every process)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        allowed = getattr(request._request, "api_rate_allowed", None)
        if allowed is not None:  # counted with the key's check (ApiKeyAuthentication)
            return bool(allowed)
        return ratelimit.hit("api-key", key.key_hash, limit=settings.API_RATE_PER_MINUTE, window=60)

    def wait(self) -> float:
        return 60.0
