from django.urls import path

from reports import handling, review_views, views

urlpatterns = [
    path("reports/", views.dashboard_view, name="dashboard"),
    path("reports/alerts/", views.alert_settings, name="alert_settings"),
    path("reports/complaint-handling/", handling.handling_view, name="complaint_handling"),
    path("reports/drivers/", views.drivers_view, name="drivers"),
    path("reports/exports/", views.export_list, name="export_list"),
    path("reports/exports/new/", views.export_new, name="export_new"),
    path("reports/exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("reports/exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("reports/reviews/", review_views.review_list, name="review_list"),
    path("reports/reviews/<int:pk>/", review_views.review_detail, name="review_detail"),
    path("reports/reviews/<int:pk>/pdf/", review_views.review_pdf, name="review_pdf"),
    path("reports/objectives/", views.objective_list, name="objective_list"),
    path("reports/objectives/new/", views.objective_edit, name="objective_new"),
    path("reports/objectives/<int:pk>/", views.objective_detail, name="objective_detail"),
    path("reports/objectives/<int:pk>/edit/", views.objective_edit, name="objective_edit"),
    path("reports/analyses/", review_views.analysis_list, name="analysis_list"),
    path("reports/analyses/new/", review_views.analysis_new, name="analysis_new"),
    path("reports/analyses/<int:pk>/", review_views.analysis_detail, name="analysis_detail"),
    path("reports/evidence/", review_views.evidence_view, name="evidence"),
    path("reports/evidence/pdf/", review_views.evidence_pdf, name="evidence_pdf"),
]
