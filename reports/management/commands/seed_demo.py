import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from audit.trail import acting
from surveys import demo
from surveys.models import Response


class Command(BaseCommand):
    help = (
        "Create demo users, ~2,000 customers, three surveys, a year of responses, complaint cases and a "
        "corrective action. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument(
            "--responses",
            type=int,
            default=20000,
            help="Responses to generate when the demo surveys have none yet (default 20,000).",
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: object, customers: int, responses: int, seed: int, **options: object) -> None:
        # Every quality record this writes goes on the audit trail as made by a command.
        with acting(None, "command"):
            self._seed(customers=customers, responses=responses, seed=seed)

    def _seed(self, *, customers: int, responses: int, seed: int) -> None:
        rng = random.Random(seed)
        logins = demo.ensure_users()
        manager = next(login for login in logins if login.username == "quanly")
        from django.contrib.auth.models import User

        owner = User.objects.get(username=manager.username)
        people = demo.ensure_customers(customers, rng)
        surveys = demo.ensure_surveys(owner)
        existing = Response.objects.filter(survey__in=surveys).count()
        if existing:
            self.stdout.write(f"Demo responses already present ({existing:,}); nothing generated.")
        else:
            started = time.perf_counter()
            made = demo.generate_responses(
                surveys=surveys,
                customers=people,
                total=responses,
                rng=rng,
                progress=lambda n: self.stdout.write(f"  {n:,} responses…"),
            )
            self.stdout.write(f"Generated {made:,} responses in {time.perf_counter() - started:.1f} s.")
            unanswered = demo.generate_delivery(
                surveys=surveys, customers=people, answered=made, created_by=owner, rng=rng
            )
            self.stdout.write(f"Generated {unanswered:,} invitations not answered (unopened, bounced, expired).")
        from feedback.demo import seed_feedback
        from feedback.loop import watermark_to_now

        staff = User.objects.get(username="nhanvien")
        cases = seed_feedback(manager=owner, staff=staff, rng=rng)
        # The generated year is history: the closed loop starts with answers given from now on.
        watermark_to_now()
        if cases:
            self.stdout.write(f"Created {cases} complaint cases and a corrective action.")
        from insight.pipeline import comments_sweep
        from insight.services import themes_seed_starter

        themes_seed_starter()
        started = time.perf_counter()
        read = comments_sweep()
        self.stdout.write(f"Comment themes: {read:,} comments read in {time.perf_counter() - started:.1f} s.")
        from reports.rollup import rollup_rebuild

        self.stdout.write(f"Rollups rebuilt: {rollup_rebuild():,} rows.")
        try_customer = next(c for c in people if c.language == "vi")
        link = demo.demo_link(surveys[0], try_customer, owner)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        # SITE_URL follows `make demo PORT=…`: the links printed here and those in the emails use the served port.
        self.stdout.write(f"Log in at {settings.SITE_URL}/accounts/login/ (demo logins, kept in var/):")
        for login in logins:
            self.stdout.write(f"  {login.role:<16} user: {login.username:<10} password: {login.password}")
        self.stdout.write(f"A survey link to try (as {try_customer.name}):\n  {link}")
        self.stdout.write(f"The admin: {settings.SITE_URL}/admin/ (as the administrator above).")
