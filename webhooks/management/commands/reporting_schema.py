from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webhooks.reporting import SCHEMA, NotPostgreSQL, reporting_schema_create


class Command(BaseCommand):
    help = "Create (or rebuild) the read-only reporting schema for BI tools. PostgreSQL only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--with-personal-data",
            action="store_true",
            help="Also show customers' names and contact details and free texts (off by default).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            views = reporting_schema_create(personal=options["with_personal_data"])
        except NotPostgreSQL as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Schema {SCHEMA}: " + ", ".join(views))
