from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import (
    ApiTokenRevokeView,
    ApiTokensRevokeAllView,
    ApiTokensView,
    SignUpConfirmView,
    SignUpView,
    TwoFactorSetupView,
    TwoFactorVerifyView,
)

app_name = "accounts"

urlpatterns = [
    path("signup/", SignUpView.as_view(), name="signup"),
    path("signup/confirm/<str:token>/", SignUpConfirmView.as_view(), name="signup-confirm"),
    path("tokens/", ApiTokensView.as_view(), name="api-tokens"),
    path("two-factor/setup/", TwoFactorSetupView.as_view(), name="two-factor-setup"),
    path("two-factor/", TwoFactorVerifyView.as_view(), name="two-factor-verify"),
    path("tokens/revoke-all/", ApiTokensRevokeAllView.as_view(), name="api-tokens-revoke-all"),
    path("tokens/<id:token_id>/revoke/", ApiTokenRevokeView.as_view(), name="api-token-revoke"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("accounts:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
