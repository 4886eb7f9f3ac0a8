from __future__ import annotations

from django.core.management.base import BaseCommand

from insight.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the comment and theme rollups from the stored analyses (after a restore, or to check them)."

    def handle(self, *args: object, **options: object) -> None:
        rows = rollups_rebuild()
        self.stdout.write(f"Comment rollups rebuilt: {rows} rows.")
