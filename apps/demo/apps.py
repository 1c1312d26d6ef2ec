from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for the local profile: `manage.py seed_demo` (idempotent)."""

    name = "apps.demo"
    label = "demo"
