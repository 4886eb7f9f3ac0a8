"""Who may change which complaint case and action item (the object policy).

Everyone on the staff side reads every case, corrective action and action item: complaint handling is shared work
and anyone may be asked about a case. Changing is narrower, so that nobody edits, closes or messages the customer
of a case someone else is answerable for (ISO 10002 7.4: a named person is responsible for each complaint):

- quality managers change everything;
- staff change the cases assigned to them, and take an unassigned case by assigning it to themselves;
- staff add action items to a corrective action for themselves (the action's owner, for anyone), update the
  items they own, and add evidence files to an action they own or hold an item of.

Every refusal is a PermissionDenied with a message the 403 page shows.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.roles import is_quality_manager
from feedback.models import ActionItem, ComplaintCase, CorrectiveAction


def can_change_case(user: Any, case: ComplaintCase) -> bool:
    return is_quality_manager(user) or (case.assignee_id is not None and case.assignee_id == user.pk)


def can_take_case(user: Any, case: ComplaintCase) -> bool:
    return case.assignee_id is None


def case_check_change(user: Any, case: ComplaintCase) -> None:
    if not can_change_case(user, case):
        if case.assignee_id is None:
            raise PermissionDenied(
                _("This case is not assigned to anyone. Take it (assign it to yourself) before changing it.")
            )
        raise PermissionDenied(
            _("This case is assigned to someone else: only they or a quality manager can change it.")
        )


def case_check_assign(user: Any, case: ComplaintCase, assignee: Any) -> None:
    """Reassigning is a change; taking an unassigned case for oneself is allowed to all staff."""
    if can_change_case(user, case):
        return
    if can_take_case(user, case) and assignee is not None and assignee.pk == user.pk:
        return
    if case.assignee_id is None:
        raise PermissionDenied(_("You can assign an unassigned case only to yourself."))
    case_check_change(user, case)


def action_check_add_item(user: Any, action: CorrectiveAction, owner: Any) -> None:
    if is_quality_manager(user) or action.owner_id == user.pk:
        return
    if owner is None or owner.pk != user.pk:
        raise PermissionDenied(
            _("You can add actions for yourself; only the action's owner or a quality manager plans them for others.")
        )


def item_check_change(user: Any, item: ActionItem) -> None:
    if not (is_quality_manager(user) or item.owner_id == user.pk):
        raise PermissionDenied(_("This action is someone else's: only its owner or a quality manager can update it."))


def action_check_evidence(user: Any, action: CorrectiveAction) -> None:
    """Evidence is added by those who work the action: its owner, the owners of its action items (what they did is
    the evidence of implementation) and the quality managers."""
    if is_quality_manager(user) or action.owner_id == user.pk:
        return
    if not action.items.filter(owner_id=user.pk).exists():
        raise PermissionDenied(
            _("This action is someone else's: only its owner, the owners of its actions or a quality manager can add "
              "evidence to it.")
        )  # fmt: skip
