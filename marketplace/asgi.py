"""ASGI entry point: HTTP and the /ws/ WebSocket endpoints (locally both on port 8000)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.dev")
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from marketplace.websocket_routes import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
