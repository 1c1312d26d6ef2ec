from django.urls import path

from apps.moderation.api import views

urlpatterns = [
    path("reports/", views.ReportListCreateView.as_view(), name="reports"),
    path("reports/<str:report_id>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("reviews/", views.ReviewCreateView.as_view(), name="reviews"),
    # GET: a seller's reviews (id = user id); PATCH: edit a review (id = review id).
    path("reviews/<str:id>/", views.UserReviewsView.as_view(), name="user-reviews"),
    path("reviews/<str:id>/reply/", views.ReviewReplyView.as_view(), name="review-reply"),
    path("queue/ads/", views.QueueAdsView.as_view(), name="queue-ads"),
    path("queue/ads/<str:ad_id>/approve/", views.QueueApproveView.as_view(),
         name="queue-ad-approve"),
    path("queue/ads/<str:ad_id>/reject/", views.QueueRejectView.as_view(),
         name="queue-ad-reject"),
    path("queue/ads/<str:ad_id>/hide/", views.QueueHideView.as_view(), name="queue-ad-hide"),
]
