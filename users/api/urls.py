from django.urls import path

from users.api import views

urlpatterns = [
    path("users", views.UserRegisterView.as_view(), name="user-register"),
    path("users/me", views.UserMeView.as_view(), name="user-me"),
    path("auth/token", views.TokenObtainView.as_view(), name="auth-token"),
]
