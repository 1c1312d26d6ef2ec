"""Included by apps/ads/api/urls.py under /api/ads/, before the ad slug routes."""

from django.urls import path

from apps.search.api import views

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="ad-search"),
    path("search/suggest/", views.SuggestView.as_view(), name="ad-suggest"),
    path("saved-searches/", views.SavedSearchListView.as_view(), name="saved-searches"),
    path("saved-searches/<str:saved_search_id>/", views.SavedSearchDetailView.as_view(),
         name="saved-search-delete"),
]
