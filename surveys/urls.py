from django.urls import path

from surveys.views import brand, campaigns, manage, respond

urlpatterns = [
    # Customers (no account): the token is the credential.
    path("s/<str:token>/", respond.respond, name="respond"),
    path("s/<str:token>/thanks/", respond.respond_thanks, name="respond_thanks"),
    path("p/<str:key>/", respond.respond_public, name="respond_public"),
    path("p/<str:key>/thanks/", respond.respond_public_thanks, name="respond_public_thanks"),
    path("confirm/<str:token>/", respond.contact_confirm, name="contact_confirm"),
    path("surveys/<int:pk>/public-link/", manage.survey_public_link, name="survey_public_link"),
    path("surveys/<int:pk>/qr/", manage.survey_qr, name="survey_qr"),
    # Quality managers.
    path("surveys/", manage.survey_list, name="survey_list"),
    path("surveys/new/", manage.survey_create, name="survey_create"),
    path("surveys/new/template/", manage.survey_from_starter, name="survey_from_starter"),
    path("surveys/<int:pk>/", manage.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/duplicate/", manage.survey_duplicate, name="survey_duplicate"),
    path("surveys/<int:pk>/edit/", manage.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/preview/", manage.survey_preview, name="survey_preview"),
    path("surveys/<int:pk>/activate/", manage.survey_activate, name="survey_activate"),
    path("surveys/<int:pk>/close/", manage.survey_close, name="survey_close"),
    path("surveys/<int:pk>/new-version/", manage.survey_new_version, name="survey_new_version"),
    path("surveys/<int:pk>/questions/add/", manage.question_add, name="question_add"),
    path("surveys/<int:pk>/questions/<int:question_id>/edit/", manage.question_edit, name="question_edit"),
    path("surveys/<int:pk>/questions/<int:question_id>/delete/", manage.question_delete, name="question_delete"),
    path("surveys/<int:pk>/questions/<int:question_id>/move/", manage.question_move, name="question_move"),
    path("surveys/<int:pk>/questions/<int:question_id>/headline/", manage.question_headline, name="question_headline"),
    path("surveys/<int:pk>/invite/", manage.invitation_new, name="invitation_new"),
    path(
        "surveys/<int:pk>/invitations/<int:invitation_id>/renew/",
        manage.invitation_renew,
        name="invitation_renew",
    ),
    path("brand/logo/<str:stamp>/", brand.brand_logo, name="brand_logo"),
    path("settings/branding/", brand.branding_edit, name="branding"),
    path("surveys/<int:pk>/send/", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/progress/", campaigns.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/cancel/", campaigns.campaign_cancel, name="campaign_cancel"),
]
