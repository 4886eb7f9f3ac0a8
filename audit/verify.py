"""Checking the trail: the hash chain link by link, then every audited record against what the trail last said."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from audit.models import AuditEntry, AuditHead
from audit.trail import GENESIS, audit_digest, audit_snapshot, canonical_type, entry_hash, registered


@dataclass(frozen=True)
class Break:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return self.message


def chain_break(chunk: int = 2000) -> Break | None:
    """The first broken link of the chain, or None when every entry follows the one before, unaltered."""
    previous, expected = GENESIS, 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk):
        if entry.seq != expected:
            return Break(expected, _("Entry #%(seq)s is missing: the chain jumps to #%(next)s.") % {
                "seq": expected, "next": entry.seq})  # fmt: skip
        if entry.prev_hash != previous:
            return Break(entry.seq, _("Entry #%(seq)s does not follow entry #%(prev)s: an entry was replaced.") % {
                "seq": entry.seq, "prev": entry.seq - 1})  # fmt: skip
        if entry_hash(entry) != entry.hash:
            return Break(entry.seq, _("Entry #%(seq)s was altered after it was written.") % {"seq": entry.seq})
        previous, expected = entry.hash, expected + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected - 1 or head.hash != previous):
        return Break(expected, _("Entries after #%(seq)s were removed (the chain ended at #%(head)s).") % {
            "seq": expected - 1, "head": head.seq})  # fmt: skip
    return None


def _in_clear(value: Any) -> bool:
    return value not in (None, "") and not (isinstance(value, str) and value.startswith("hmac:"))


def record_breaks(limit: int = 20) -> list[Break]:
    """Audited records whose stored values differ from what the trail last recorded (changed off the record), and
    records of a `made_on_trail` type that the trail never mentions (made off the record)."""
    specs = registered()
    # record type → id → field → (value, seq of the entry that set it)
    state: dict[str, dict[str, dict[str, tuple[Any, int]]]] = defaultdict(dict)
    deleted: dict[str, dict[str, int]] = defaultdict(dict)
    rows = AuditEntry.objects.order_by("seq").values_list("seq", "record_type", "record_id", "action", "changes")
    for seq, written_as, record_id, action, changes in rows.iterator(chunk_size=2000):
        kind = canonical_type(written_as)
        if kind not in specs:
            continue
        if action == "delete":
            state[kind].pop(record_id, None)
            deleted[kind][record_id] = seq
            continue
        deleted[kind].pop(record_id, None)
        fields = state[kind].setdefault(record_id, {})
        if action == "create":
            # A "create" entry lists the fields it set; the others were empty then (None, as the trail says it),
            # so a value written there later behind the trail's back differs from what the trail holds.
            fields.update(dict.fromkeys(specs[kind].fields, (None, seq)))
        for name, (_before, after) in changes.items():
            if name in specs[kind].fields:
                fields[name] = (after, seq)
    found: list[Break] = []
    for kind, records in state.items():
        model = specs[kind].model
        ids = list(records)
        for start in range(0, len(ids), 1000):
            batch = ids[start : start + 1000]
            stored = {str(obj.pk): obj for obj in model._default_manager.filter(pk__in=batch)}
            for record_id in batch:
                obj = stored.get(record_id)
                if obj is None:
                    found.append(Break(None, _("%(record)s #%(id)s was deleted outside the trail.") % {
                        "record": model._meta.verbose_name, "id": record_id}))  # fmt: skip
                    continue
                now = audit_snapshot(obj)
                for name, (value, seq) in records[record_id].items():
                    if name in specs[kind].personal and _in_clear(value):
                        # Written before the field was kept as a digest (entries are never rewritten).
                        value = audit_digest(value)
                    if now.get(name) != value:
                        found.append(Break(seq, _(
                            "%(record)s #%(id)s: “%(field)s” differs from what entry #%(seq)s recorded."
                        ) % {"record": model._meta.verbose_name, "id": record_id,
                             "field": model._meta.get_field(name).verbose_name, "seq": seq}))  # fmt: skip
                if len(found) >= limit:
                    return found
    for kind, spec in specs.items():
        if not spec.made_on_trail or len(found) >= limit:
            continue
        known = set(state.get(kind, {})) | set(deleted.get(kind, {}))
        for pk in spec.model._default_manager.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000):
            if str(pk) not in known:
                found.append(Break(None, _("%(record)s #%(id)s has no entry in the trail: it was made outside it.") % {
                    "record": spec.model._meta.verbose_name, "id": pk}))  # fmt: skip
                if len(found) >= limit:
                    break
    for kind, records in deleted.items():
        model = specs[kind].model
        for record_id in model._default_manager.filter(pk__in=list(records)).values_list("pk", flat=True):
            found.append(Break(records[str(record_id)], _("%(record)s #%(id)s was recreated outside the trail.") % {
                "record": model._meta.verbose_name, "id": record_id}))  # fmt: skip
    return found[:limit]
