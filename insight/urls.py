from django.urls import path

from insight import views

urlpatterns = [
    path("insight/themes/", views.theme_list, name="theme_list"),
    path("insight/themes/starter/", views.theme_seed, name="theme_seed"),
    path("insight/themes/new/", views.theme_edit, name="theme_new"),
    path("insight/themes/<int:pk>/edit/", views.theme_edit, name="theme_edit"),
    path("insight/themes/<int:pk>/comments/", views.theme_comments, name="theme_comments"),
    path("insight/comments/<int:pk>/correct/", views.comment_correct, name="comment_correct"),
    path("insight/suggestions/", views.theme_suggestions, name="theme_suggestions"),
]
