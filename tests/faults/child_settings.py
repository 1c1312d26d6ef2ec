"""Settings of the child processes the fault tests start (servers and workers): the test profile,
with the broker, eagerness, mail folder and pool taken from the environment the test sets."""

from marketplace.settings.test import *  # noqa: F403
from marketplace.settings.test import CELERY_BROKER_URL, DATABASES, VAR_DIR, env

CELERY_BROKER_URL = env("FAULT_BROKER_URL", default=CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("FAULT_EAGER", default=False)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # sweep for messages of dead workers every second (the defaults: every 100 s)
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    "max_retries": 0,
}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("FAULT_MAIL_DIR", default=str(VAR_DIR / "test-mail"))
# beat inside the worker (-B) runs only the outbox relay, often
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {
        "task": "apps.common.tasks.relay_outbox",
        "schedule": env.float("OUTBOX_RELAY_SECONDS", default=1.0),
    },
}
if env.bool("FAULT_DB_POOL", default=False):
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": env.int("DB_POOL_MAX", default=8),
        "timeout": env.int("DB_POOL_TIMEOUT", default=3),
    }
OUTBOX_RELAY_GRACE_SECONDS = 0.0
