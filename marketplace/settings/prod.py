"""Production profile: every secret from the environment, nothing insecure by default."""

from .base import *  # noqa: F403
from .base import DEFAULT_THROTTLE_RATES, env
from .base import throttle_rates as _throttle_rates

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

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
