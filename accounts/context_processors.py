from typing import Any

from django.http import HttpRequest

from accounts.roles import is_quality_manager, is_staff_member, is_top_management


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_quality_manager": False, "is_staff_member": False, "is_top_management": False}
    return {
        "is_quality_manager": is_quality_manager(user),
        "is_staff_member": is_staff_member(user),
        "is_top_management": is_top_management(user),
    }
