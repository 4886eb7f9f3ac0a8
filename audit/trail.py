"""Writing the audit trail: which fields of which records are audited, and how an entry joins the chain.

A service changes a record, then calls `audit_record` in the same transaction with the record's audited values as
they were before (`audit_snapshot`). The entry's hash covers its content and the previous entry's hash; the chain's
head row is locked while the entry is appended, so two transactions writing at once queue instead of forking the
chain (PostgreSQL; SQLite lets one writer in at a time anyway).

Personal data (a customer's name, email, phone) never enters the trail in clear: the trail is permanent and an
erasure must still leave nothing behind (Decree 13/2023). Such fields are stored as a keyed digest, which still
shows that, when and by whom the value changed, and lets `audit_verify` compare it with the database.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import AuditEntry, AuditHead
from config.sqlrows import execute_prepared, insert_parts, insert_together, inserted

GENESIS = "0" * 64


@dataclass(frozen=True)
class Audited:
    model: type[models.Model]
    fields: tuple[str, ...]
    personal: frozenset[str] = frozenset()
    label: Callable[[Any], str] = str
    many: frozenset[str] = field(default_factory=frozenset)
    # How a person reads a field's stored value when generic rules would show its structure (a JSON analysis).
    readers: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)
    # Every row is made by a service that writes its first entry: a row the trail never mentions was made behind
    # its back (a forged case or effectiveness review), and `audit_verify` says so. Off for records made in bulk
    # without an entry each (responses, a campaign's invitations) and for rows seeded by migrations.
    made_on_trail: bool = False


_REGISTRY: dict[str, Audited] = {}
# A record type's former names (a model that moved to another app) → its name now.
_FORMER: dict[str, str] = {}


def register(
    model: type[models.Model],
    *,
    fields: Iterable[str],
    personal: Iterable[str] = (),
    label: Callable[[Any], str] = str,
    former_labels: Iterable[str] = (),
    readers: Mapping[str, Callable[[Any], str]] | None = None,
    made_on_trail: bool = False,
) -> None:
    """Declare a quality record and the fields the trail follows. Called from each app's AppConfig.ready().

    `made_on_trail`: every row of the model has an entry (see Audited). `former_labels` are the record type's names
    in entries written before its model moved to another app: entries are never rewritten, so readers map those
    names to the current one (`canonical_type`). `readers` turn a field's stored value (as the entry holds it) into
    the words the trail's page and export show, in the reader's language."""
    names = tuple(fields)
    many = frozenset(n for n in names if model._meta.get_field(n).many_to_many)
    _REGISTRY[model._meta.label_lower] = Audited(
        model, names, frozenset(personal), label, many, readers=dict(readers or {}), made_on_trail=made_on_trail
    )
    for former in former_labels:
        _FORMER[former] = model._meta.label_lower


def registered() -> dict[str, Audited]:
    return dict(_REGISTRY)


def canonical_type(kind: str) -> str:
    """The record type an entry's `record_type` means today (entries keep the name they were written with)."""
    return _FORMER.get(kind, kind)


def type_names(kind: str) -> list[str]:
    """Every name entries of this record type may carry: its current one and its former ones."""
    kind = canonical_type(kind)
    return [kind, *sorted(former for former, now in _FORMER.items() if now == kind)]


def record_type(instance_or_model: Any) -> str:
    return instance_or_model._meta.label_lower


# Who is acting, and through which door: set by the middleware for requests and by `acting` elsewhere.
_ACTING: contextvars.ContextVar[tuple[Any, str]] = contextvars.ContextVar("audit_acting", default=(None, "system"))


@contextmanager
def acting(user: Any = None, via: str = "system") -> Iterator[None]:
    """Attribute the writes inside to `user` (None for the system), coming in through `via`."""
    token = _ACTING.set((user, via))
    try:
        yield
    finally:
        _ACTING.reset(token)


def acting_for_request(user: Any, via: str) -> None:
    """Attribute the rest of this request's writes to `user` through `via`: for doors that learn who is acting
    only inside the view (an API key). The audit middleware's `acting` block restores the previous value after."""
    _ACTING.set((user, via))


def current_actor() -> tuple[Any, str]:
    return _ACTING.get()


def _digest(value: Any) -> str:
    if value in (None, "") or value == {} or value == []:
        return value
    # A structure (a JSON analysis) by its canonical JSON: the same content, whatever order the database gives keys.
    text = canonical(value).decode() if isinstance(value, dict | list) else str(value)
    key = hashlib.sha256(b"lang-nghe audit personal data|" + settings.SECRET_KEY.encode()).digest()
    return "hmac:" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def audit_digest(value: Any) -> Any:
    """A value kept as its keyed digest, for free text that can quote a customer (notes, messages): the trail cannot
    be rewritten, so it must not hold what an erasure (Decree 13/2023) removes; the digest still proves the text."""
    return _digest(value)


def to_json(value: Any) -> Any:
    """A stored value as the trail keeps it: JSON that reads back identically from any database."""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def audit_snapshot(instance: models.Model) -> dict[str, Any]:
    """The audited fields' current values of a saved record, as the trail stores them."""
    spec = _REGISTRY[record_type(instance)]
    values: dict[str, Any] = {}
    for name in spec.fields:
        if name in spec.many:
            values[name] = sorted(getattr(instance, name).values_list("pk", flat=True)) if instance.pk else []
            continue
        model_field = instance._meta.get_field(name)
        raw = getattr(instance, model_field.attname)
        if isinstance(model_field, models.DecimalField) and raw is not None:
            # 40 typed in a form and 40.0 read back from the column are one value: compare at the column's scale.
            raw = Decimal(raw).quantize(Decimal(1).scaleb(-model_field.decimal_places))
        value = to_json(raw)
        values[name] = _digest(value) if name in spec.personal else value
    return values


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_content(entry: AuditEntry) -> dict[str, Any]:
    """Everything an entry's hash covers."""
    return {
        "seq": entry.seq,
        "at": to_json(entry.at),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "via": entry.via,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "record_label": entry.record_label,
        "action": entry.action,
        "changes": entry.changes,
        "reason": entry.reason,
        "context": entry.context,
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(entry.prev_hash.encode() + b"|" + canonical(entry_content(entry))).hexdigest()


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, actor.get_username()[:150]


# Entries appended with the head's update in one statement (PostgreSQL); larger batches (imports) go through
# bulk_create in batches.
_ONE_STATEMENT = 50
_COLUMNS = (
    "seq", "at", "actor_id", "actor_name", "via", "record_type", "record_id", "record_label", "action", "changes",
    "reason", "context", "prev_hash", "hash",
)  # fmt: skip


def _lock_head() -> AuditHead:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = AuditHead._meta.db_table
            cursor.execute(f"SELECT seq, hash FROM {table} WHERE id = 1 FOR UPDATE")  # noqa: S608  # nosec B608
            row = cursor.fetchone()
        if row is not None:
            return AuditHead(pk=1, seq=row[0], hash=row[1])
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    return head if head is not None else AuditHead.objects.create(pk=1)


def _store(entries: list[AuditEntry], head: AuditHead, rows: list[models.Model]) -> None:
    """The entries, the head's new position and `rows` (other new rows of the same transaction): on PostgreSQL one
    statement (one round trip while the head is locked, which every audited write in the system queues on),
    otherwise bulk_create, an UPDATE and a save per row."""
    if connection.vendor != "postgresql" or len(entries) > _ONE_STATEMENT:
        AuditEntry.objects.bulk_create(entries, batch_size=2000)
        head.save(update_fields=["seq", "hash"])
        insert_together(rows)
        return
    row = "(" + ", ".join(["%s::jsonb" if name in ("changes", "context") else "%s" for name in _COLUMNS]) + ")"
    params: list[Any] = []
    for entry in entries:
        for name in _COLUMNS:
            value = getattr(entry, name)
            params.append(canonical(value).decode() if name in ("changes", "context") else value)
    # Table and column names come from the models; every value is a parameter (bandit B608 reviewed).
    parts, also = insert_parts(rows)
    sql = (
        f"WITH e AS (INSERT INTO {AuditEntry._meta.db_table} ({', '.join(_COLUMNS)}) "  # noqa: S608  # nosec B608
        f"VALUES {', '.join([row] * len(entries))} RETURNING id), "
        f"h AS (UPDATE {AuditHead._meta.db_table} SET seq = %s, hash = %s WHERE id = 1) "
        + "".join(f", r{n} AS ({part})" for n, part in enumerate(parts))
        + " SELECT id FROM e"
    )
    with connection.cursor() as cursor:
        # Prepared: the API's invitations and the other single-record writes repeat a few shapes of it.
        execute_prepared(cursor, sql, [*params, head.seq, head.hash, *also])
        ids = [r[0] for r in cursor.fetchall()]
    for entry, pk in zip(entries, ids, strict=True):
        entry.pk = pk
    inserted([*entries, *rows])


def _append(entries: list[AuditEntry], rows: list[models.Model] | None = None) -> list[AuditEntry]:
    # No savepoint inside a caller's transaction: nothing here is caught and retried, and a savepoint and its
    # release are two more round trips on every audited write (the API's invitations, bench/api.py).
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        # Server time, taken under the lock: entries are in time order along the chain.
        now = timezone.now()
        for entry in entries:
            entry.seq, entry.prev_hash, entry.at = head.seq + 1, head.hash, now
            # Store what the database will hand back (JSON round trip), so the hash is computed on that.
            entry.changes = json.loads(canonical(entry.changes))
            entry.context = json.loads(canonical(entry.context))
            entry.hash = entry_hash(entry)
            head.seq, head.hash = entry.seq, entry.hash
        _store(entries, head, rows or [])
    return entries


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), after.get(name)]
        for name in list(dict.fromkeys([*before, *after]))
        if before.get(name) != after.get(name)
    }


_UNSET: Any = object()


def audit_entry_for(
    instance: models.Model,
    *,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Any = _UNSET,
    via: str | None = None,
    reason: str = "",
    context: dict[str, Any] | None = None,
    extra: dict[str, list[Any]] | None = None,
) -> AuditEntry | None:
    """An unsaved entry for a change of `instance`, or None when nothing audited changed."""
    spec = _REGISTRY[record_type(instance)]
    if after is None:
        after = {} if action == "delete" else audit_snapshot(instance)
    changes = _changes(before or {}, after)
    changes.update(extra or {})
    if not changes and action == "update":
        return None
    acting_user, acting_via = current_actor()
    if actor is _UNSET:
        actor = acting_user
    actor_id, actor_name = _actor_fields(actor)
    return AuditEntry(
        actor_id=actor_id,
        actor_name=actor_name,
        via=via or acting_via,
        record_type=spec.model._meta.label_lower,
        record_id=str(instance.pk),
        record_label=str(spec.label(instance))[:200],
        action=action,
        changes=changes,
        reason=reason.strip(),
        context=context or {},
    )


class Deferred:
    """What an `audit_deferred` block appends at its end: the entries recorded inside, and other new rows to write in
    the same statement (`insert_with`)."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        self.rows: list[models.Model] = []

    def insert_with(self, rows: list[models.Model]) -> None:
        """Write these unsaved rows (no save() logic, no signals: plain log and record rows) with the entries."""
        self.rows.extend(rows)


# The open `audit_deferred` block's entries and rows, or None outside one.
_DEFERRED: contextvars.ContextVar[Deferred | None] = contextvars.ContextVar("audit_deferred", default=None)


@contextmanager
def audit_deferred() -> Iterator[Deferred]:
    """Entries recorded inside are appended together when the block ends without an error, still inside the
    caller's transaction, which must be open around the block: the same entries in the same transaction, but the
    chain's head (which every audited write in the system queues on) is locked only from the block's end to the
    commit, not across the rest of the request (the API's invitation requests, bench/api.py). Rows given to
    `insert_with` are written in the same statement as the entries (PostgreSQL).

    Only for blocks that roll back as a whole on an error: an entry recorded inside a savepoint that rolls back while
    the block goes on would still be appended. The entries are unsaved (no seq, no hash) until the block ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_deferred must run inside a transaction")
    deferred = Deferred()
    token = _DEFERRED.set(deferred)
    try:
        yield deferred
    finally:
        _DEFERRED.reset(token)
    # Reached only when the block raised nothing.
    if deferred.entries:
        _append(deferred.entries, deferred.rows)
    else:
        insert_together(deferred.rows)


def audit_record(instance: models.Model, **kwargs: Any) -> AuditEntry | None:
    """Append one entry for a change of `instance` (see `audit_entry_for`); call it inside the change's transaction."""
    entry = audit_entry_for(instance, **kwargs)
    if entry is None:
        return None
    deferred = _DEFERRED.get()
    if deferred is not None:
        deferred.entries.append(entry)
        return entry
    return _append([entry])[0]


def audit_append(entries: list[AuditEntry]) -> int:
    """Append entries made by `audit_entry_for`, in their order."""
    deferred = _DEFERRED.get()
    if deferred is not None:
        deferred.entries.extend(entries)
    elif entries:
        _append(entries)
    return len(entries)


def audit_record_many(instances: Iterable[models.Model], **kwargs: Any) -> int:
    """One entry per record, appended together (imports): one lock, one bulk INSERT."""
    return audit_append([e for e in (audit_entry_for(i, **kwargs) for i in instances) if e is not None])


def audit_stored(instance: models.Model) -> dict[str, Any]:
    """The audited values of the record as the database holds it: the "before" of an update.

    Read from the database, not from the instance, because a ModelForm's validation has usually already copied the
    new values onto the instance the view hands to the service.
    """
    if instance.pk is None:
        return {}
    stored = type(instance)._default_manager.filter(pk=instance.pk).first()
    return audit_snapshot(stored) if stored is not None else {}
