from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """The stock form; a subclass so the login page can grow (e.g. rate limiting) without touching urls."""
