"""WebSocket routes of every app."""

from django.urls import URLPattern

from apps.chat.routing import websocket_urlpatterns as chat_routes

websocket_urlpatterns: list[URLPattern] = [*chat_routes]
