from django.urls import path

from apps.moderation.api import views

urlpatterns = [
    path("reports/", views.ReportListCreateView.as_view(), name="reports"),
    path("reports/<str:report_id>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("reviews/", views.ReviewCreateView.as_view(), name="reviews"),
    path("reviews/<str:user_id>/", views.UserReviewsView.as_view(), name="user-reviews"),
]
