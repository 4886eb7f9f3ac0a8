from django.urls import path

from feedback.views import actions, cases, config, evidence, public

urlpatterns = [
    # Customers (no account).
    path("complaint/", public.complaint_form, name="complaint_form"),
    path("c/<str:token>/", public.case_track, name="case_track"),
    # Staff.
    path("cases/", cases.case_list, name="case_list"),
    path("cases/new/", cases.case_create, name="case_create"),
    path("cases/<str:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<str:reference>/edit/", cases.case_edit, name="case_edit"),
    path("cases/<str:reference>/status/", cases.case_transition, name="case_transition"),
    path("cases/<str:reference>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<str:reference>/assess/", cases.case_assess, name="case_assess"),
    path("cases/<str:reference>/not-accepted/", cases.case_not_accepted, name="case_not_accepted"),
    path("cases/<str:reference>/note/", cases.case_note, name="case_note"),
    path("cases/<str:reference>/message/", cases.case_message, name="case_message"),
    path("actions/", actions.action_list, name="action_list"),
    path("actions/new/", actions.action_create, name="action_create"),
    path("actions/<str:reference>/", actions.action_detail, name="action_detail"),
    path("actions/<str:reference>/items/", actions.item_add, name="item_add"),
    path("actions/<str:reference>/items/<int:item_id>/", actions.item_status, name="item_status"),
    path("actions/<str:reference>/evidence/", evidence.evidence_upload, name="evidence_upload"),
    path("actions/<str:reference>/evidence/<int:pk>/", evidence.evidence_download, name="evidence_download"),
    path("actions/<str:reference>/8d.pdf", evidence.action_8d_pdf, name="action_8d_pdf"),
    # Quality managers.
    path("actions/<str:reference>/edit/", actions.action_edit, name="action_edit"),
    path("actions/<str:reference>/step/<str:step>/", actions.action_step, name="action_step"),
    path("settings/categories/", config.category_list, name="category_list"),
    path("settings/categories/new/", config.category_edit, name="category_create"),
    path("settings/categories/<int:pk>/", config.category_edit, name="category_edit"),
    path("settings/time-limits/", config.time_limits, name="time_limits"),
    path("settings/calendar/", config.business_calendar, name="business_calendar"),
    path("settings/calendar/holidays/", config.holiday_add, name="holiday_add"),
    path("settings/calendar/holidays/<int:pk>/remove/", config.holiday_remove, name="holiday_remove"),
]
