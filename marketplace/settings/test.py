"""Test profile: real PostgreSQL and Redis (the embedded ones unless the URLs are set)."""

from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, DATABASES, DEFAULT_THROTTLE_RATES, VAR_DIR, env
from .base import throttle_rates as _throttle_rates

DEBUG = False
SECRET_KEY = "test-only-not-secret-" + "x" * 40
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
CORS_ALLOWED_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_FILE_PATH = VAR_DIR / "test-sms"
MEDIA_ROOT = VAR_DIR / "test-media"
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
SERVE_MEDIA = True

# Tests get their own Redis database so they never touch a developer's cache or queues.
_redis = urlsplit(env("REDIS_URL", default="redis://127.0.0.1:6379/0"))
TEST_REDIS_URL = urlunsplit(_redis._replace(path="/" + env("REDIS_TEST_DB", default="15")))
CACHES["default"]["LOCATION"] = TEST_REDIS_URL
CACHES["default"]["KEY_PREFIX"] = "test"
CHANNEL_LAYERS["default"]["CONFIG"] = {
    "hosts": [{"address": TEST_REDIS_URL, "socket_timeout": 10}], "prefix": "test-asgi",
}
CELERY_BROKER_URL = TEST_REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

DATABASES["default"]["OPTIONS"].pop("pool", None)

# Tests start from the local defaults with throttles on; each test may tighten them.
THROTTLE_RATES = _throttle_rates(DEFAULT_THROTTLE_RATES)

# Parallel runs (several checkouts or sessions on one server) each name their own database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME", default="test_marketplace")}
