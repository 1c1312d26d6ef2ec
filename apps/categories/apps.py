from django.apps import AppConfig


class CategoriesConfig(AppConfig):
    name = "apps.categories"
    label = "categories"

    def ready(self) -> None:
        # The catalogue's read cache (category/location trees, ad listings and detail) watches
        # every write to the tables it shows, in every process (web, ASGI, Celery workers).
        from apps.common import cache

        cache.install()
