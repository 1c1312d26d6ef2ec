"""ASGI entry point: HTTP and the /ws/ WebSocket endpoints (locally both on port 8000)."""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.dev")
django_http = get_asgi_application()

# A socket thread back from a database or Redis round trip waits for the GIL while the event
# loop runs websocket work; at 5 ms those waits convoyed (several per message), and the 8
# threads of a process stored ~75 messages/s. bench/ws_bench.py, 1,000 sockets at 200 msg/s,
# 2 processes, same hour and load: 149 msg/s and delivery p95 12.4 s at 5 ms; 200 msg/s (kept
# up) and p95 2.9 s at 0.5 ms, CPU per message 3.5 -> 3.0 ms (bench/results/ws-2026-11-27.md).
sys.setswitchinterval(0.0005)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.common.middleware import WebSocketContextMiddleware  # noqa: E402
from marketplace.websocket_routes import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        # request id for the socket's logs, open-socket gauge (apps/common/middleware.py)
        "websocket": WebSocketContextMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
