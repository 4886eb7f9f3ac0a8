from django.urls import path

from webhooks import views

urlpatterns = [
    path("settings/webhooks/", views.webhook_list, name="webhook_list"),
    path("settings/webhooks/new/", views.webhook_create, name="webhook_create"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/edit/", views.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("settings/webhooks/<int:pk>/secret/", views.webhook_roll_secret, name="webhook_roll_secret"),
    path("settings/webhooks/deliveries/<int:delivery_id>/", views.webhook_delivery, name="webhook_delivery"),
    path("settings/webhooks/deliveries/<int:delivery_id>/resend/", views.webhook_resend, name="webhook_resend"),
]
