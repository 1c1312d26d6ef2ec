from django.urls import path

from apps.locations.api import views

urlpatterns = [
    path("", views.LocationTreeView.as_view(), name="location-tree"),
    path("<str:slug>/", views.LocationDetailView.as_view(), name="location-detail"),
]
