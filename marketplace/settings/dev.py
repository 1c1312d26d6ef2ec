"""Local profile: what `make run` serves on http://127.0.0.1:8000 with no configuration."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-not-secret-" + "x" * 40)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS", default=["http://localhost:3000", "http://127.0.0.1:3000"]
)
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"
SERVE_MEDIA = True
# `manage.py runserver` serves WebSockets too (daphne's runserver). Only here: daphne pulls
# Twisted and Autobahn in (24 MB more RSS per process), which gunicorn and uvicorn never use.
INSTALLED_APPS = ["daphne", *INSTALLED_APPS]
