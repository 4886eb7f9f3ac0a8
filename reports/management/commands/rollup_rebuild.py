from __future__ import annotations

from django.core.management.base import BaseCommand

from reports.rollup import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute every daily rollup from the stored responses (after a restore, or to check the rollups)."

    def handle(self, *args: object, **options: object) -> None:
        rows = rollup_rebuild()
        self.stdout.write(f"Rollups rebuilt: {rows} rows.")
