"""Thin Celery tasks: ids in, a function of workflow.py / notify.py / loop.py does the work."""

from __future__ import annotations

from celery import shared_task

from feedback import loop, notify, workflow

RETRY = {"bind": True, "max_retries": 5, "retry_backoff": True, "autoretry_for": (OSError,)}


@shared_task(**RETRY)
def send_acknowledgement(self, case_id: int) -> str:  # type: ignore[no-untyped-def]
    return notify.send_acknowledgement(case_id)


@shared_task(**RETRY)
def send_acknowledgements(self, case_ids: list[int]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return notify.send_acknowledgements(case_ids)


@shared_task(**RETRY)
def send_customer_message(self, case_id: int, text: str, message_id: int | None = None) -> str:  # type: ignore[no-untyped-def]
    return notify.send_customer_message(case_id, text, message_id)


@shared_task(**RETRY)
def send_recourse(self, case_id: int) -> str:  # type: ignore[no-untyped-def]
    return notify.send_recourse(case_id)


@shared_task(**RETRY)
def send_escalation(self, case_id: int, level: int = 2) -> str:  # type: ignore[no-untyped-def]
    return notify.send_escalation(case_id, level)


@shared_task(**RETRY)
def send_handling_survey(self, case_id: int, actor_id: int) -> str:  # type: ignore[no-untyped-def]
    return notify.send_handling_survey(case_id, actor_id)


@shared_task
def case_from_response(response_id: int) -> str:
    return loop.case_from_response(response_id)


@shared_task
def sweep_detractors(full: bool = False) -> int:
    # Asked for after answers: a quick sweep; beat's (every minute) passes full=True.
    return loop.sweep(full=full)


@shared_task
def escalate_overdue_cases() -> int:
    return workflow.case_escalate_overdue()
