"""Production profile: every secret from the environment, nothing insecure by default."""

from .base import *  # noqa: F403
from .base import DATABASES, DEFAULT_THROTTLE_RATES, env
from .base import throttle_rates as _throttle_rates

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# No query runs longer than this (0 = no limit; `migrate` runs with 0, see README Operations).
DATABASES["default"]["OPTIONS"]["options"] += (
    f" -c statement_timeout={env.int('DB_STATEMENT_TIMEOUT_MS', default=30000)}")

# Django 5.2's psycopg 3 pool, one per process. A gunicorn gthread worker runs WEB_THREADS
# (8) requests at once and each holds at most one connection, so max_size = threads: 2
# workers x 8 = 16 server connections at most, 2 x 2 kept warm. CONN_MAX_AGE must be 0 with it.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": env.int("DB_POOL_MIN", default=2),
    "max_size": env.int("DB_POOL_MAX", default=env.int("WEB_THREADS", default=8)),
    "timeout": env.int("DB_POOL_TIMEOUT", default=10),
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# CORS: only the origins listed in CORS_ALLOWED_ORIGINS (env); the API is bearer-only, so no
# cookies cross origins.
CORS_ALLOW_ALL_ORIGINS = False
CORS_ALLOW_CREDENTIALS = False
TRUST_X_REAL_IP = env.bool("TRUST_X_REAL_IP", default=True)  # behind deploy/nginx.conf
SMS_BACKEND = env(
    "SMS_BACKEND", default="apps.notifications.sms.africastalking.AfricasTalkingSmsSender"
)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)

THROTTLE_RATES = _throttle_rates(
    {
        **DEFAULT_THROTTLE_RATES,
        "anon": "3000/h",
        "user": "10000/h",
        "register": "20/h",
        "login": "100/h",
        "password_reset": "20/h",
        "ad_posting": "50/h",
        "report": "20/h",
    }
)

PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="mpesa")
PAYMENT_PROVIDERS = env.list("PAYMENT_PROVIDERS", default=[PAYMENT_PROVIDER])
PAYMENT_SANDBOX_SECRET = env("PAYMENT_SANDBOX_SECRET", default="")  # empty: sandbox refused
MPESA_BASE_URL = env("MPESA_BASE_URL", default="https://api.safaricom.co.ke")
