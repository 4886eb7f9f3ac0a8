"""API keys: made, checked, revoked. The secret is `ln_` + 43 random URL-safe characters (256 bits); only its
SHA-256 is stored, so a copy of the database opens no door, and a plain hash is enough for a secret this long."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import is_quality_manager
from api.models import ApiKey
from audit.trail import audit_record, audit_stored

PREFIX = "ln_"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


# last_used_at is written at most this often per key: a write per call would double the cost of a cheap call.
TOUCH_EVERY = timedelta(seconds=60)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def apikey_create(*, name: str, scope: str, actor: AbstractBaseUser) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned once and cannot be recovered later."""
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name.strip(), scope=scope, prefix=secret[: len(PREFIX) + 6], key_hash=hash_secret(secret))
    key.created_by = actor  # type: ignore[assignment]
    key.full_clean()
    key.save()
    audit_record(key, action="create", actor=actor)
    return key, secret


@transaction.atomic
def apikey_revoke(*, key: ApiKey, actor: AbstractBaseUser) -> ApiKey:
    """The key stops working at once; its calls stay in the log."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        raise ValidationError(_("This key has already been revoked."))
    before = audit_stored(key)
    key.revoked_at = timezone.now()
    key.revoked_by = actor  # type: ignore[assignment]
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(key, action="revoke", before=before, actor=actor)
    return key


def _key_with_creator_plain(key_hash: str) -> ApiKey | None:
    """_key_with_creator through the ORM: the reference its tests compare it with."""
    return ApiKey.objects.select_related("created_by").filter(key_hash=key_hash).first()


@cache
def _key_sql() -> str:
    user_model = get_user_model()
    columns = [f"k.{_qn(f.column)}" for f in ApiKey._meta.concrete_fields]
    columns += [f"u.{_qn(f.column)}" for f in user_model._meta.concrete_fields]
    # The creator's groups, in the same statement: whether they are still a quality manager is asked on every call.
    groups = user_model._meta.get_field("groups")
    memberships, group = groups.remote_field.through._meta, Group._meta
    user_pk = _qn(user_model._meta.pk.column)
    # Reviewed (bandit B608): the models' table and column names, quoted; the hash is a parameter.
    columns.append(
        f"ARRAY(SELECT g.{_qn('name')} FROM {_qn(memberships.db_table)} m "  # noqa: S608  # nosec B608
        f"JOIN {_qn(group.db_table)} g ON g.{_qn(group.pk.column)} = m.{_qn(groups.m2m_reverse_name())} "
        f"WHERE m.{_qn(groups.m2m_column_name())} = u.{user_pk})"
    )
    return (
        f"SELECT {', '.join(columns)} FROM {_qn(ApiKey._meta.db_table)} k "  # noqa: S608  # nosec B608
        f"JOIN {_qn(user_model._meta.db_table)} u ON u.{_qn(user_model._meta.pk.column)} = k.{_qn('created_by_id')} "
        f"WHERE k.{_qn('key_hash')} = %s"
    )


def _key_with_creator(key_hash: str) -> ApiKey | None:
    """The key with this hash and the user who made it, in one plain SQL statement on PostgreSQL (whose driver
    hands back every column as the model's type): it runs before every API call, and the ORM's compiling of the
    same join cost more than the query (bench/api.py)."""
    if connection.vendor != "postgresql":
        return _key_with_creator_plain(key_hash)
    with connection.cursor() as cursor:
        cursor.execute(_key_sql(), [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    user_model = get_user_model()
    key_fields, user_fields = ApiKey._meta.concrete_fields, user_model._meta.concrete_fields
    split = len(key_fields)
    key = ApiKey.from_db(connection.alias, [f.attname for f in key_fields], row[:split])
    key.created_by = user_model.from_db(connection.alias, [f.attname for f in user_fields], row[split:-1])
    key.created_by._role_groups = set(row[-1])  # what accounts.roles would read with a query of its own
    return key


# Keys this process has checked lately, by hash: (key with its creator, the version stamp it was read under, when).
# Every call asks Redis for the stamp anyway (with its rate limit, api/auth.py), and anything that could change a
# key's answer (a key made, changed or revoked, a user saved, deleted, or given other groups or permissions) changes
# the stamp once it commits (apikeys_changed, wired in api/apps.py): a revoked key is refused at the next call in
# every process. Only if Redis could not be reached when the stamp was to change does a process keep its copy
# longer, at most CHECKED_FOR seconds.
_checked: dict[str, tuple[ApiKey, str, float]] = {}
CHECKED_FOR = 10.0
CHECKED_MAX = 1000
STAMP = "api-keys-stamp"


# The prefixes of the active keys, and when they were read (see apikey_prefix_known).
_prefixes: tuple[frozenset[str], float] | None = None


def apikeys_changed(**_signal: object) -> None:
    """Forget the keys checked, in this process at once and in the others at their next call (once this
    transaction commits, so that no process reads the old row again under the new stamp)."""
    _forget()
    transaction.on_commit(_stamp_bump)


def _forget() -> None:
    global _prefixes
    _checked.clear()
    _prefixes = None


def _stamp_bump() -> None:
    from config import ratelimit

    _forget()
    ratelimit.stamp_bump(STAMP)


def apikey_prefix_known(secret: str) -> bool:
    """Whether an active key begins as this secret does (its shown prefix: `ln_` and 6 random characters).

    A client address past its wrong-key limit (api/auth.py) still reaches the key check with such a secret, so a
    flood of made-up keys from a shared address (a NAT, a proxy) does not lock out the real keys behind it, while a
    made-up key costs no lookup: one hits a real prefix about once in 64⁶ (7·10¹⁰) tries. The prefixes are read at
    most every CHECKED_FOR seconds, and again after a key changes in this process; the key itself is then checked
    in full, so a prefix read before a revocation opens nothing."""
    global _prefixes
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return False
    now = time.monotonic()
    if _prefixes is None or now - _prefixes[1] >= CHECKED_FOR:
        known = ApiKey.objects.filter(revoked_at__isnull=True).values_list("prefix", flat=True)
        _prefixes = (frozenset(known), now)
    return secret[: len(PREFIX) + 6] in _prefixes[0]


def apikey_for_secret(secret: str, *, stamp: str | None = None) -> ApiKey | None:
    """The active key with this secret, or None. Marks it used (at most once a minute).

    `stamp` is the keys' version stamp just read from Redis (api/auth.py): a key checked under the same stamp less
    than CHECKED_FOR seconds ago is not read again. Without one, the key is read from the database."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    key_hash = hash_secret(secret)
    checked = _checked.get(key_hash) if stamp is not None else None
    if checked is not None and checked[1] == stamp and time.monotonic() - checked[2] < CHECKED_FOR:
        key = checked[0]
    else:
        _checked.pop(key_hash, None)
        key = _key_with_creator(key_hash)
        # A key acts as the quality manager who made it, with their rights: once their account is deactivated (they
        # left) or they are no longer a quality manager, it opens no door, as their password no longer opens the
        # quality managers' pages; whoever kept a copy of the secret keeps nothing.
        if key is None or key.revoked_at is not None or not is_quality_manager(key.created_by):
            return None
        if stamp is not None:
            if len(_checked) >= CHECKED_MAX:
                _checked.clear()
            _checked[key_hash] = (key, stamp, time.monotonic())
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
