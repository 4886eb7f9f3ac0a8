"""`manage.py audit_verify`: walk the hash chain, then compare every audited record with the trail."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEntry
from audit.verify import chain_break, record_breaks


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and that no audited record was changed outside it."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = chain_break()
        if broken is not None:
            raise CommandError(f"Chain broken at entry #{broken.seq}: {broken}")
        count = AuditEntry.objects.count()
        self.stdout.write(f"Chain intact: {count} entries.")
        breaks = record_breaks()
        if breaks:
            for item in breaks:
                self.stderr.write(str(item))
            raise CommandError(f"{len(breaks)} record(s) changed outside the trail; first: {breaks[0]}")
        self.stdout.write("Every audited record matches the trail.")
