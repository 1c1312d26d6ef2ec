from django.urls import include, path

from apps.ads.api import views
from apps.payments.api.views import BoostView

urlpatterns = [
    path("", views.AdListCreateView.as_view(), name="ad-list"),
    path("my-ads/", views.MyAdsView.as_view(), name="my-ads"),
    path("favorites/", views.FavoritesView.as_view(), name="favorites"),
    path("favorites/<str:ad_id>/", views.FavoriteDeleteView.as_view(), name="favorite-delete"),
    path("", include("apps.search.api.urls")),
    path("<slug:slug>/", views.AdDetailView.as_view(), name="ad-detail"),
    path("<slug:slug>/similar/", views.SimilarAdsView.as_view(), name="ad-similar"),
    path("<slug:slug>/images/", views.AdImagesView.as_view(), name="ad-images"),
    path("<slug:slug>/images/<str:image_id>/", views.AdImageDetailView.as_view(),
         name="ad-image-detail"),
    path("<slug:slug>/boost/", BoostView.as_view(), name="ad-boost"),
    path("<slug:slug>/reveal-phone/", views.RevealPhoneView.as_view(), name="ad-reveal-phone"),
    path("<slug:slug>/stats/", views.AdStatsView.as_view(), name="ad-stats"),
]
