"""The two roles and the checks every staff view uses.

Quality managers design and send surveys and see everything; staff log and work complaints. A superuser counts as a
quality manager. Groups are created by a migration, so a fresh database has them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

QUALITY_MANAGER = "Quality manager"
STAFF = "Staff"


def _groups(user: Any) -> set[str]:
    cached = getattr(user, "_role_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._role_groups = cached
    return cached


def is_quality_manager(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or QUALITY_MANAGER in _groups(user)))


def is_staff_member(user: Any) -> bool:
    """Anyone who may use the staff side at all: staff and quality managers."""
    return is_quality_manager(user) or bool(user.is_authenticated and user.is_active and STAFF in _groups(user))


View = Callable[..., HttpResponse]


def _role_required(check: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Anonymous users go to the login page; a signed-in user without the role gets 403.
quality_manager_required = _role_required(is_quality_manager)
staff_required = _role_required(is_staff_member)


def staff_users():  # type: ignore[no-untyped-def]
    """Everyone who can be given work: active staff and quality managers."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=[STAFF, QUALITY_MANAGER]) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def quality_manager_users():  # type: ignore[no-untyped-def]
    """The active quality managers (and administrators)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    who = Q(groups__name=QUALITY_MANAGER) | Q(is_superuser=True)
    return get_user_model().objects.filter(who, is_active=True).distinct()


def quality_manager_addresses(*, also: int | None = None) -> list[str]:
    """The email addresses of the active quality managers (and administrators), plus user `also`'s if given."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    who = Q(groups__name=QUALITY_MANAGER) | Q(is_superuser=True)
    if also is not None:
        who |= Q(pk=also)
    users = get_user_model().objects.filter(who, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


# Top management (ISO 9001 5.1): the last level a complaint escalates to. A group of its own, since a director is
# rarely a quality manager; with nobody in it, the administrators stand in so that an escalation is never lost.
TOP_MANAGEMENT = "Top management"


def is_top_management(user: Any) -> bool:
    """A member of the Top management group (an administrator does not count: sign-offs are theirs alone)."""
    return bool(user.is_authenticated and user.is_active and TOP_MANAGEMENT in _groups(user))


def top_management_addresses() -> list[str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    addresses = set(users.filter(groups__name=TOP_MANAGEMENT).values_list("email", flat=True))
    if not addresses:
        addresses = set(users.filter(is_superuser=True).values_list("email", flat=True))
    return sorted(addresses)


def can_read_reviews(user: Any) -> bool:
    """Management reviews are prepared by quality managers and signed by top management (ISO 9001 9.3): both read
    them; only quality managers change them."""
    return is_quality_manager(user) or is_top_management(user)


review_reader_required = _role_required(can_read_reviews)
