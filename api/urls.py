from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api.views import aggregates, cases, customers, invitations, reference, responses, staff

urlpatterns = [
    path(
        "api/v1/schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="api_schema",
    ),  # fmt: skip
    path("api/v1/docs/", staff.api_docs, name="api_docs"),
    path("api/v1/customers/", customers.CustomerList.as_view(), name="api_customers"),
    path("api/v1/customers/<int:pk>/", customers.CustomerDetail.as_view(), name="api_customer"),
    path("api/v1/customers/<int:pk>/erase/", customers.CustomerErase.as_view(), name="api_customer_erase"),
    path(
        # path: an external id may hold a slash ("ORD/2026/7"), as a CRM's or an ERP's keys often do.
        "api/v1/customers/by-external-id/<path:external_id>/",
        customers.CustomerByExternalId.as_view(),
        name="api_customer_by_external_id",
    ),
    path("api/v1/invitations/", invitations.InvitationCreate.as_view(), name="api_invitations"),
    path("api/v1/invitations/<int:pk>/", invitations.InvitationDetail.as_view(), name="api_invitation"),
    path("api/v1/responses/", responses.ResponseList.as_view(), name="api_responses"),
    path("api/v1/responses/<int:pk>/", responses.ResponseDetail.as_view(), name="api_response"),
    path("api/v1/cases/", cases.CaseCreate.as_view(), name="api_cases"),
    path("api/v1/cases/<str:reference>/", cases.CaseDetail.as_view(), name="api_case"),
    path("api/v1/aggregates/", aggregates.Aggregates.as_view(), name="api_aggregates"),
    path("api/v1/surveys/", reference.SurveyList.as_view(), name="api_surveys"),
    path("api/v1/categories/", reference.CategoryList.as_view(), name="api_categories"),
    # Anything else under the API: a JSON 404, also when DEBUG shows Django's HTML page elsewhere.
    re_path(r"^api/v1/", staff.api_not_found),
    # Quality managers.
    path("settings/api-keys/", staff.apikey_list, name="apikey_list"),
    path("settings/api-keys/<int:pk>/revoke/", staff.apikey_revoke_view, name="apikey_revoke"),
    path("settings/api-calls/", staff.apicall_list, name="apicall_list"),
]
