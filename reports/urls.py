from django.urls import path

from reports import handling, views

urlpatterns = [
    path("reports/", views.dashboard_view, name="dashboard"),
    path("reports/alerts/", views.alert_settings, name="alert_settings"),
    path("reports/complaint-handling/", handling.handling_view, name="complaint_handling"),
    path("reports/drivers/", views.drivers_view, name="drivers"),
    path("reports/exports/", views.export_list, name="export_list"),
    path("reports/exports/new/", views.export_new, name="export_new"),
    path("reports/exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("reports/exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("reports/reviews/", views.review_list, name="review_list"),
    path("reports/reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reports/reviews/<int:pk>/pdf/", views.review_pdf, name="review_pdf"),
    path("reports/objectives/", views.objective_list, name="objective_list"),
    path("reports/objectives/new/", views.objective_edit, name="objective_new"),
    path("reports/objectives/<int:pk>/", views.objective_detail, name="objective_detail"),
    path("reports/objectives/<int:pk>/edit/", views.objective_edit, name="objective_edit"),
]
