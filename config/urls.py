from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    # First: integrations call the API far more often than people open pages, and Django tries the patterns in
    # order (resolving an API path after every other app's patterns cost ~0.3 ms a call, bench/api.py). Its
    # patterns all start with api/v1/ or settings/api-, which no other app uses.
    path("", include("api.urls")),
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("customers.urls")),
    path("", include("surveys.urls")),
    path("", include("insight.urls")),
    path("", include("feedback.urls")),
    path("", include("reports.urls")),
    path("", include("audit.urls")),
    path("", include("webhooks.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.forbidden"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
