from __future__ import annotations

import getpass
import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webhooks.reporting import SCHEMA, NotPostgreSQL, reporting_role_create


class Command(BaseCommand):
    help = (
        "Create a PostgreSQL login role that can only SELECT from the reporting schema (for Metabase, Power BI, "
        "Superset). The password is read from an environment variable or asked for; it is never printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The role's name, e.g. metabase.")
        parser.add_argument(
            "--password-env",
            default="REPORTING_ROLE_PASSWORD",
            help="Environment variable holding the password (default REPORTING_ROLE_PASSWORD); asked if unset.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise CommandError("Use a role name of lower-case letters, digits and underscores (at most 63).")
        password = os.environ.get(options["password_env"], "")
        if not password:
            if not options.get("interactive", True) or not os.isatty(0):
                raise CommandError(f"Set {options['password_env']} to the role's password (or run in a terminal).")
            password = getpass.getpass(f"Password for {name}: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("The two passwords differ.")
        if len(password) < 12:
            raise CommandError("Use a password of at least 12 characters.")
        try:
            done = reporting_role_create(name=name, password=password)
        except NotPostgreSQL as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Role {name} {done}: SELECT on schema {SCHEMA} only.")
