from django.urls import path

from apps.users.api import views

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("verify/email/", views.VerifyEmailView.as_view(), name="verify-email"),
    path("verify/phone/", views.VerifyPhoneView.as_view(), name="verify-phone"),
    path("verify/resend/", views.ResendView.as_view(), name="verify-resend"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/confirm/", views.PasswordResetConfirmView.as_view(),
         name="password-reset-confirm"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("block/", views.BlockView.as_view(), name="block"),
    path("blocked/", views.BlockedListView.as_view(), name="blocked"),
    path("unblock/<str:user_id>/", views.UnblockView.as_view(), name="unblock"),
    path("<str:user_id>/", views.PublicProfileView.as_view(), name="public-profile"),
]
