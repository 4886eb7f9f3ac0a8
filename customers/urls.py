from django.urls import path

from customers import views

# URL names are global (no namespace), as they were when these pages lived in `surveys`.
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/import/", views.customer_import, name="customer_import"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/erase/", views.customer_erase_view, name="customer_erase"),
]
