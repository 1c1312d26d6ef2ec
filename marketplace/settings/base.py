"""Settings shared by every profile; dev.py, test.py and prod.py adjust them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .env import VAR_DIR, env, parse_throttle_rates

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "corsheaders",
    "channels",
    "django_prometheus",
    "apps.common",
    "apps.users",
    "apps.locations",
    "apps.categories",
    "apps.ads",
    "apps.chat",
    "apps.moderation",
    "apps.payments",
    "apps.search",
    "apps.notifications",
    "apps.demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.middleware.RequestIdMiddleware",
    "apps.common.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"
APPEND_SLASH = False  # the contract: a path without its slash is 404, never a redirect

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- data stores ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/marketplace")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# django-prometheus' PostgreSQL engine: Django's own plus query/error counters (apps/common/metrics)
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DATABASES["default"].setdefault("OPTIONS", {})
# Typo tolerance: "iphnoe" must still find "iPhone" (see apps/search/migrations/0001).
DATABASES["default"]["OPTIONS"]["options"] = "-c pg_trgm.word_similarity_threshold=0.4"
# A server that is down or restarting answers 503 quickly instead of hanging a request.
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=3)
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": env.int("DB_POOL_MIN", default=1),
    "max_size": env.int("DB_POOL_MAX", default=16),
    "timeout": env.int("DB_POOL_TIMEOUT", default=10),
}
# Prepared statements: parameters bound by the server (`$1`, not quoted into the text), and a
# statement run DB_PREPARE_THRESHOLD times on a connection is prepared there, so PostgreSQL
# stops parsing and planning it again (an ad's detail: 0.79 ms of planning for 0.17 ms of
# execution at 1M ads). Needs a direct connection or a pooler that keeps prepared statements
# (PgBouncer >= 1.21 with max_prepared_statements); DB_PREPARE_THRESHOLD=off turns both off.
DB_PREPARE_THRESHOLD = env.str("DB_PREPARE_THRESHOLD", default="5")
if DB_PREPARE_THRESHOLD.lower() not in ("off", "none", ""):
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(DB_PREPARE_THRESHOLD)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",  # django-redis + metrics
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mkt"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}
# A cache outage degrades to "no cache" (logged) instead of failing requests.
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

CHANNEL_LAYERS = {
    "default": {
        # Redis pub/sub: a group_send is one PUBLISH, group membership lives in the process,
        # nothing queues per process in Redis (the list-based core layer's per-process queue
        # fell behind and dropped events above ~75 msg/s: bench/results/ws-*.md). Delivery is
        # at most once either way; the database is the truth (clients catch up with ?after=).
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # A read timeout longer than the core layer's own 5 s blocking receive, should it come
        # back: redis-py's default (5 s) would kill every socket idle for 5 s.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}],
                   "prefix": env("CHANNELS_PREFIX", default="asgi")},
    }
}

# --- auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_REFRESH_SERIALIZER": "apps.users.api.serializers.TokenRefreshInput",
}

VERIFICATION_CODE_TTL = timedelta(minutes=10)
VERIFICATION_CODE_MAX_ATTEMPTS = 5
# SMS/email spend cap: codes sent per user and channel, and per address, each UTC day.
VERIFICATION_SENDS_PER_DAY = env.int("VERIFICATION_SENDS_PER_DAY", default=10)
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)

# --- REST API ---------------------------------------------------------------------------------
DEFAULT_THROTTLE_RATES: dict[str, str | None] = {
    "anon": "100000/h",
    "user": "100000/h",
    "register": "1000/h",
    "login": "1000/h",
    "password_reset": "1000/h",
    "ad_posting": "1000/h",
    "resend": "1/m",
    "message_send": "60/m",
    "report": "1000/h",
}

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.users.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # OPTIONS is not in the contract (CORS preflights are answered by corsheaders first): 405,
    # instead of DRF's introspection (500 on views without serializer_class; found by fuzzing).
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.common.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.common.throttles.AnonThrottle",
        "apps.common.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {},  # rates live in THROTTLE_RATES (below), read by our throttles
    "EXCEPTION_HANDLER": "apps.common.exception_handler.handle_api_exception",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
}

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_HANDLER_CLASS": "apps.common.exception_handler.ContractExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "apps.common.exception_handler.ContractExceptionFormatter",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Marketplace API",
    "DESCRIPTION": (
        "Classifieds marketplace backend: accounts, catalogue, search, chat, moderation and "
        "M-Pesa promotions. Errors always have the body `ErrorResponse`; 429 answers carry "
        "`Retry-After`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.schema.add_error_responses",
    ],
    # plan and promotion `tier`, and the stats day's `promoted`: one enum component
    "ENUM_NAME_OVERRIDES": {
        "TierEnum": "apps.payments.models.Tier",
        "AttributeTypeEnum": ["text", "int", "decimal", "bool", "choice"],
        "SuggestionTypeEnum": ["ad", "category"],
    },
}

# --- background work --------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "apps.notifications.tasks.*": {"queue": "notifications"},
    "apps.search.tasks.*": {"queue": "search"},
}
# acks_late: a message whose worker died goes back to the queue after this long (seconds).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # never wait forever on a broker that vanished without closing the connection
    "socket_connect_timeout": 2, "socket_timeout": 10,
    # a publish tries to connect once: a request's on-commit publish must not wait on a dead
    # broker (the outbox relay sends what it could not); workers reconnect on their own
    "max_retries": 0,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (JSON, redacted)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
CELERY_TIMEZONE = "UTC"

# --- notifications ----------------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Marketplace <no-reply@marketplace.local>")
SMS_BACKEND = env("SMS_BACKEND", default="apps.notifications.sms.file.FileSmsSender")
SMS_FILE_PATH = VAR_DIR / "sms"
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
AFRICASTALKING_USERNAME = env("AFRICASTALKING_USERNAME", default="")
AFRICASTALKING_API_KEY = env("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_SENDER_ID = env("AFRICASTALKING_SENDER_ID", default="")
AFRICASTALKING_BASE_URL = env(
    "AFRICASTALKING_BASE_URL", default="https://api.africastalking.com/version1"
)

# --- files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- HTTP -------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key", "accept"]
CORS_EXPOSE_HEADERS = ["Retry-After"]
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.common.logging_json.RequestIdFilter"},
        "redact": {"()": "apps.common.logging_json.RedactFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "apps.common.logging_json.JsonLogFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": env("LOG_FORMAT", default="json"),  # json | plain
                             "filters": ["request_id", "redact"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- operations (README "Operations") ----------------------------------------------------------
# /metrics: a bearer token, or an allowlisted client address; anyone else gets 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS: list[str] = env.list("METRICS_ALLOWED_IPS", default=[])
# Sentry only when SENTRY_DSN is set (apps/common/logging_sentry.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from apps.common.logging_sentry import init_sentry

    init_sentry(SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", default="production"),
                release=env("SENTRY_RELEASE", default=None),
                traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))


def throttle_rates(defaults: dict[str, str | None]) -> dict[str, str | None]:
    return parse_throttle_rates(env("THROTTLE_RATES", default=""), defaults)


THROTTLE_RATES = throttle_rates(DEFAULT_THROTTLE_RATES)
# The Django admin's path (DJANGO_ADMIN_URL, or ADMIN_URL): a less guessable one in production.
ADMIN_URL = env("DJANGO_ADMIN_URL", default=env("ADMIN_URL", default="admin/")).strip("/") + "/"
# Admin sign-in attempts (POST) per client IP, GCRA like the API's throttles: 429 past it.
ADMIN_LOGIN_RATE: str | None = env("ADMIN_LOGIN_RATE", default="10/m")

# The task outbox (apps/common/outbox.py): publish what the broker missed.
CELERY_BEAT_SCHEDULE["relay-outbox"] = {
    "task": "apps.common.tasks.relay_outbox",
    "schedule": env.float("OUTBOX_RELAY_SECONDS", default=10.0),
}
CELERY_BEAT_SCHEDULE["redeliver-pending-messages"] = {
    "task": "apps.notifications.tasks.redeliver_pending_messages",
    "schedule": 60.0,
}

# --- ads --------------------------------------------------------------------------------------
AD_LIFETIME_DAYS = env.int("AD_LIFETIME_DAYS", default=30)
AD_EXPIRY_WARNING_DAYS = 3
MAX_IMAGES_PER_AD = 20
THUMBNAIL_SIZE = 400
SEARCH_BACKEND = env(
    "SEARCH_BACKEND", default="apps.search.backends.postgres.PostgresSearchBackend"
)
ELASTICSEARCH_URL = env("ELASTICSEARCH_URL", default="")
ELASTICSEARCH_INDEX = env("ELASTICSEARCH_INDEX", default="marketplace-ads")
CELERY_BEAT_SCHEDULE.update(
    {
        "expire-due-ads": {"task": "apps.ads.tasks.expire_due_ads", "schedule": 60.0},
        "warn-expiring-ads": {"task": "apps.ads.tasks.warn_expiring_ads", "schedule": 3600.0},
        "flush-ad-views": {"task": "apps.ads.tasks.flush_view_counts", "schedule": 3.0},
        "moderate-stuck-ads": {"task": "apps.ads.tasks.moderate_stuck_ads", "schedule": 60.0},
        "thumbnail-missing-images": {
            "task": "apps.ads.tasks.thumbnail_missing_images", "schedule": 300.0,
        },
    }
)
CELERY_BEAT_SCHEDULE["reconcile-search-index"] = {
    "task": "apps.search.tasks.reconcile_index",
    "schedule": 300.0,
    "kwargs": {"minutes": 15},
}
CELERY_BEAT_SCHEDULE["saved-search-digests"] = {
    "task": "apps.search.tasks.send_saved_search_digests",
    "schedule": 86400.0,
}
CELERY_BEAT_SCHEDULE["rebuild-search-tables"] = {  # typo vocabulary + facet counts (safety net)
    "task": "apps.search.tasks.rebuild_search_tables",
    "schedule": 86400.0,
}
# PostgreSQL search: past this many matches, count/facets are estimates (count_is_estimate).
SEARCH_COUNT_CAP = env.int("SEARCH_COUNT_CAP", default=2000)
# PostgreSQL search: a last word in at least this many ads matches whole, not as a prefix
# (apps/search/whole_words.py).
SEARCH_WHOLE_WORD_MIN_ADS = env.int("SEARCH_WHOLE_WORD_MIN_ADS", default=5000)
# Search answers (ids, count, facets) kept this many seconds; the contract lets search lag 5 s
# (apps/search/result_cache.py). 0: every search runs.
SEARCH_RESULT_CACHE_SECONDS = env.int("SEARCH_RESULT_CACHE_SECONDS", default=5)
REPORT_HIDE_THRESHOLD = env.int("REPORT_HIDE_THRESHOLD", default=3)

# --- payments ---------------------------------------------------------------------------------
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="sandbox")  # what boosts use
PAYMENT_PROVIDERS: list[str] = env.list("PAYMENT_PROVIDERS", default=[PAYMENT_PROVIDER])
PAYMENT_SANDBOX_SECRET = env("PAYMENT_SANDBOX_SECRET", default="sandbox-local-secret")
PAYMENT_SANDBOX_DELAY = 2
PAYMENT_PENDING_TIMEOUT_MINUTES = 30
MPESA_BASE_URL = env("MPESA_BASE_URL", default="https://sandbox.safaricom.co.ke")
MPESA_CONSUMER_KEY = env("MPESA_CONSUMER_KEY", default="")
MPESA_CONSUMER_SECRET = env("MPESA_CONSUMER_SECRET", default="")
MPESA_SHORTCODE = env("MPESA_SHORTCODE", default="174379")
MPESA_PASSKEY = env("MPESA_PASSKEY", default="")
MPESA_CALLBACK_BASE_URL = env("MPESA_CALLBACK_BASE_URL", default="http://127.0.0.1:8000")
MPESA_CALLBACK_TOKEN = env("MPESA_CALLBACK_TOKEN", default="")
MPESA_CALLBACK_IPS: list[str] = env.list("MPESA_CALLBACK_IPS", default=[])
CELERY_BEAT_SCHEDULE.update(
    {
        "query-stale-payments": {"task": "apps.payments.tasks.query_stale_payments",
                                 "schedule": 60.0},
        "end-expired-promotions": {"task": "apps.payments.tasks.end_expired_promotions",
                                   "schedule": 30.0},
    }
)

# --- trust and safety (issue 7) ---------------------------------------------------------------
# Automatic moderation: the rules run in this order and the first reason found holds the ad.
# Dotted paths to functions `(ad) -> moderation_reason | None`; an unknown path makes every
# check fail, so ads wait in `pending` (never approved by accident) until it is fixed.
MODERATION_RULES: list[str] = env.list("MODERATION_RULES", default=[
    "apps.moderation.checks.banned_word",
    "apps.moderation.checks.contact_details",
    "apps.moderation.checks.duplicate",
    "apps.moderation.checks.near_duplicate",
    "apps.moderation.checks.photo_duplicate",
    "apps.moderation.checks.price_out_of_range",
    "apps.moderation.checks.new_account_velocity",
])
# near_duplicate: another seller's active ad in the same category, published in the last
# MODERATION_NEAR_DUPLICATE_DAYS days, whose title + description has a trigram similarity of at
# least this much (0.8: 0.20% of the generated clean corpus held, see test_rules.py). Only the
# MODERATION_NEAR_DUPLICATE_CANDIDATES newest title matches are compared.
MODERATION_NEAR_DUPLICATE_SIMILARITY = env.float("MODERATION_NEAR_DUPLICATE_SIMILARITY",
                                                 default=0.8)
MODERATION_NEAR_DUPLICATE_DAYS = env.int("MODERATION_NEAR_DUPLICATE_DAYS", default=30)
MODERATION_NEAR_DUPLICATE_CANDIDATES = 200
# photo_duplicate: a photo whose perceptual hash (64-bit pHash) is within this many bits of a
# photo of another seller's active ad, or of one created in the last
# MODERATION_PHOTO_DUPLICATE_DAYS days (not a draft), or of the owner's other active ad
# (0..15; up to 7 costs the same lookup; see apps/moderation/photos.py and test_photo_rule.py).
MODERATION_PHOTO_DUPLICATE_DISTANCE = env.int("MODERATION_PHOTO_DUPLICATE_DISTANCE", default=6)
MODERATION_PHOTO_DUPLICATE_DAYS = env.int("MODERATION_PHOTO_DUPLICATE_DAYS", default=30)
# new_account_velocity: an account younger than MODERATION_NEW_ACCOUNT_HOURS that created more
# than MODERATION_NEW_ACCOUNT_MAX_ADS ads in its first hour has its ads held (reason `staff`).
MODERATION_NEW_ACCOUNT_HOURS = env.int("MODERATION_NEW_ACCOUNT_HOURS", default=24)
MODERATION_NEW_ACCOUNT_MAX_ADS = env.int("MODERATION_NEW_ACCOUNT_MAX_ADS", default=5)
# A reviewer may edit their review for this many days after posting it.
REVIEW_EDIT_DAYS = env.int("REVIEW_EDIT_DAYS", default=7)
# Sellers' response_rate and median_response_minutes cover conversations started in the last
# SELLER_RESPONSE_DAYS days; recomputed nightly into users_user (never per request).
SELLER_RESPONSE_DAYS = env.int("SELLER_RESPONSE_DAYS", default=90)
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["refresh-seller-response-stats"] = {
    "task": "apps.moderation.tasks.refresh_seller_response_stats",
    "schedule": crontab(hour=2, minute=30),  # nightly, 02:30 UTC
}
