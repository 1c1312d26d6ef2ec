"""WebSocket routes of every app (the chat endpoint lands here with the messaging work)."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
