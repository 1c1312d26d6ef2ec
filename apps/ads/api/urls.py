from django.urls import path

from apps.ads.api import views

urlpatterns = [
    path("", views.AdListCreateView.as_view(), name="ad-list"),
    path("my-ads/", views.MyAdsView.as_view(), name="my-ads"),
    path("favorites/", views.FavoritesView.as_view(), name="favorites"),
    path("favorites/<str:ad_id>/", views.FavoriteDeleteView.as_view(), name="favorite-delete"),
    path("<slug:slug>/", views.AdDetailView.as_view(), name="ad-detail"),
    path("<slug:slug>/similar/", views.SimilarAdsView.as_view(), name="ad-similar"),
    path("<slug:slug>/images/", views.AdImagesView.as_view(), name="ad-images"),
    path("<slug:slug>/images/<str:image_id>/", views.AdImageDetailView.as_view(),
         name="ad-image-detail"),
    path("<slug:slug>/reveal-phone/", views.RevealPhoneView.as_view(), name="ad-reveal-phone"),
]
