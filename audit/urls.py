from django.urls import path

from audit import views

urlpatterns = [
    path("audit/", views.trail, name="audit_trail"),
    path("audit/export.csv", views.trail_export, name="audit_export"),
]
