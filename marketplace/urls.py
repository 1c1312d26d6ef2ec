from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from apps.common import health, metrics
from apps.common.errors_views import api_not_found
from apps.common.schema_views import DocsRedocView, DocsSwaggerView, SchemaView
from apps.common.throttles import rate_limited_login

api_patterns: list[URLPattern | URLResolver] = [
    path("users/", include("apps.users.api.urls")),
    path("locations/", include("apps.locations.api.urls")),
    path("categories/", include("apps.categories.api.urls")),
    path("ads/", include("apps.ads.api.urls")),
    path("messages/", include("apps.chat.api.urls")),
    path("moderation/", include("apps.moderation.api.urls")),
    path("payments/", include("apps.payments.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", DocsRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    re_path(r"^metrics/?$", metrics.metrics_view, name="metrics"),  # token/allowlisted IP
    # The admin's sign-in, rate limited per IP (ADMIN_LOGIN_RATE); shadows the admin's own.
    path(f"{settings.ADMIN_URL}login/", rate_limited_login(admin.site.login)),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(
        re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )

if getattr(settings, "BENCH_FLOOR_VIEW", False):  # marketplace.settings.bench only
    from apps.common.bench_views import floor as bench_floor

    urlpatterns.append(path("bench/floor/", bench_floor, name="bench-floor"))

# Anything else under /api/ is a JSON 404 in every profile (DEBUG pages included).
urlpatterns.append(re_path(r"^api/", api_not_found))

handler400 = "apps.common.errors_views.bad_request"
handler404 = "apps.common.errors_views.not_found"
handler500 = "apps.common.errors_views.server_error"
