from django.urls import path

from apps.categories.api import views

# `all/` and `admin/...` come before `<slug>/` (their slugs are reserved).
urlpatterns = [
    path("", views.CategoryTreeView.as_view(), name="category-tree"),
    path("all/", views.CategoryFlatView.as_view(), name="category-list"),
    path("admin/create/", views.CategoryCreateView.as_view(), name="category-create"),
    path("admin/<str:slug>/update/", views.CategoryUpdateView.as_view(),
         name="category-update"),
    path("admin/<str:slug>/delete/", views.CategoryDeleteView.as_view(),
         name="category-delete"),
    path("<str:slug>/", views.CategoryDetailView.as_view(), name="category-detail"),
]
