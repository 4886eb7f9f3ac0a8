from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views


class PasswordResetView(auth_views.PasswordResetView):
    # The link in the email is built from SITE_URL, never from the request's Host header, which a client sets.
    email_template_name = "registration/password_reset_email.txt"

    def form_valid(self, form: Any) -> Any:
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)
