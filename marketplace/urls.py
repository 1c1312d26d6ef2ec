from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from apps.common import health
from apps.common.errors_views import api_not_found
from apps.common.schema_views import SchemaView

api_patterns: list[URLPattern | URLResolver] = [
    path("users/", include("apps.users.api.urls")),
    path("locations/", include("apps.locations.api.urls")),
    path("categories/", include("apps.categories.api.urls")),
    path("ads/", include("apps.ads.api.urls")),
    path("messages/", include("apps.chat.api.urls")),
    path("moderation/", include("apps.moderation.api.urls")),
    path("payments/", include("apps.payments.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(
        re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )

# Anything else under /api/ is a JSON 404 in every profile (DEBUG pages included).
urlpatterns.append(re_path(r"^api/", api_not_found))

handler400 = "apps.common.errors_views.bad_request"
handler404 = "apps.common.errors_views.not_found"
handler500 = "apps.common.errors_views.server_error"
