"""Lắng Nghe settings: the one place that reads the environment.

With nothing set, the app runs with embedded defaults: SQLite under var/, Celery tasks run eagerly in-process and
emails are written as files under var/mail/. With DJANGO_ENV=production (or DEBUG off) it refuses to start without
SECRET_KEY, ALLOWED_HOSTS and SITE_URL. See README.md for every variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_int,
    env_list,
    env_required,
    env_str,
    redis_url_for_test_worker,
    refuse_unsafe_production,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env_str("DJANGO_ENV", "development")
DEBUG = env_bool("DEBUG", DJANGO_ENV != "production")
PRODUCTION = DJANGO_ENV == "production" or not DEBUG

# Development only: a fixed key so sessions survive restarts of `make demo`. Published, so never used in production.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105  # nosec B105

if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        env_required("ALLOWED_HOSTS")
    SITE_URL = env_required("SITE_URL").rstrip("/")
    refuse_unsafe_production(
        secret_key=SECRET_KEY,
        development_key=DEVELOPMENT_SECRET_KEY,
        allowed_hosts=ALLOWED_HOSTS,
        site_url=SITE_URL,
        redis_url=env_str("REDIS_URL"),
    )
else:
    SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

ORGANISATION_NAME = env_str("ORGANISATION_NAME", "Lắng Nghe")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "accounts",
    "audit",
    "outbox",
    "customers",
    "surveys",
    "insight",
    "feedback",
    "reports",
    "rest_framework",
    "drf_spectacular",
    "api",
    "webhooks",
]

MIDDLEWARE = [
    "config.logs.RequestContextMiddleware",
    "api.middleware.ApiCallLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is chosen (its 400 is in the visitor's language), before anything reads the database.
    "config.middleware.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The admin's history pages may be read; their "Revert" would save an old version over a quality record outside
# its service (no rule checked, no timeline entry, no audit entry).
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database: PostgreSQL is the truth in production; SQLite under var/ when nothing is configured. ---
# Which process this is: "web" (gunicorn: respondents and staff pages) or "worker" (Celery: campaigns, exports,
# rollups). Each gets its own PostgreSQL time limits: a web request must never wait long on a lock or a slow
# statement (a table locked 40 s stalled every web worker), while an export or a rollup rebuild may run for minutes.
PROCESS_ROLE = env_str("PROCESS_ROLE", "web")
if PROCESS_ROLE not in ("web", "worker"):
    raise ImproperlyConfigured(f"PROCESS_ROLE must be web or worker; got {PROCESS_ROLE!r}.")
_WORKER = PROCESS_ROLE == "worker"
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 600_000 if _WORKER else 10_000)
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 30_000 if _WORKER else 3_000)
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5)
# gunicorn kills a request after this (gunicorn.conf.py); above the web statement timeout, so a request killed
# there was already past any statement that could commit.
WEB_TIMEOUT = env_int("WEB_TIMEOUT", 30)
DATABASE_URL = env_str("DATABASE_URL")
# The embedded default's options (SQLite): WAL and a busy timeout let the dev server and an in-process task write
# without "database is locked".
SQLITE_OPTIONS = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
if DATABASE_URL and DATABASE_URL.startswith("sqlite:"):
    DATABASES = {"default": {**dj_database_url.parse(DATABASE_URL), "OPTIONS": SQLITE_OPTIONS}}
elif DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": DB_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS} -c lock_timeout={DB_LOCK_TIMEOUT_MS}",
    }
    # A reused connection is checked before a request uses it: after a PostgreSQL restart the first request of
    # each web worker no longer fails on a dead connection.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The respondent path prepares its two statements per connection (surveys/fastpath.py). Turn off behind a pooler
# in transaction mode (e.g. PgBouncer pool_mode=transaction), where prepared statements do not survive.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)

# --- Cache and Celery: Redis when REDIS_URL is set, otherwise in-process. ---
REDIS_URL = env_str("REDIS_URL")
# Tests only: inside a pytest-xdist worker process (CI runs the PostgreSQL pass on both cores) each worker gets its
# own Redis database, as pytest-django gives it its own test database. A worker or web server that a test starts
# inherits PYTEST_XDIST_WORKER but not xdist, and is given its broker URL explicitly: it is left as it is.
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER") and "xdist" in sys.modules:
    REDIS_URL = redis_url_for_test_worker(REDIS_URL, os.environ["PYTEST_XDIST_WORKER"])
# Seconds to wait on Redis: a hung broker (SIGSTOP) must fail a call quickly, never hold a request or a worker.
REDIS_TIMEOUT = env_int("REDIS_TIMEOUT", 2)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# In-process when no broker is set. The host name is spelled out: without one kombu logs "No hostname was
# supplied" to the console (seen in `make demo`).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 10 * 60)
# Our tasks are idempotent, so a task lost with a crashed worker is run again rather than dropped.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Webhook sweeps and sends have a queue of their own, so that a receiver hears of a response within seconds even
# while the other queue works through rollups and comment themes. A worker started without -Q consumes both
# queues (one worker is enough); docker-compose.yml adds a worker for the webhook queue alone.
CELERY_TASK_QUEUES = {"celery": {}, "webhooks": {}}
CELERY_TASK_ROUTES = {
    "webhooks.tasks.webhooks_sweep": {"queue": "webhooks"},
    "webhooks.tasks.webhooks_send": {"queue": "webhooks"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Retry the broker for ever (a worker must outlive any Redis outage) but wait on each try only a few seconds.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    "retry_on_timeout": True,
    # Longer than any task can run (the hard time limit), so Redis never redelivers a task that is still running.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 300,
}
# A publish gives up after about two seconds; the outbox row or the watermark it announced stays for the next run.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}
# Our logging configuration (JSON lines, config/logs.py) stays in force in workers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 1000)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 400_000)  # KiB
CELERY_TIMEZONE = "UTC"

# The outbox (outbox/dispatch.py): how often beat dispatches, how long a handed-out row waits for a worker before
# it is handed out again, how long a run holds it, and the retries of a failing task.
OUTBOX_DISPATCH_SECONDS = env_int("OUTBOX_DISPATCH_SECONDS", 5)
OUTBOX_NUDGE_SECONDS = 1.0
OUTBOX_DISPATCH_LEASE_SECONDS = env_int("OUTBOX_DISPATCH_LEASE_SECONDS", 60)
OUTBOX_RUN_LEASE_SECONDS = env_int("OUTBOX_RUN_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 60)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 3600)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)

# Invitation delivery (campaigns/delivery.py): a claimed invitation's lease, and the backoff of a temporary refusal
# (1, 2, 4 ... minutes, then hourly) until it counts as failed.
INVITATION_SEND_LEASE_SECONDS = env_int("INVITATION_SEND_LEASE_SECONDS", 20 * 60)
INVITATION_RETRY_BASE_SECONDS = env_int("INVITATION_RETRY_BASE_SECONDS", 60)
INVITATION_RETRY_MAX_SECONDS = env_int("INVITATION_RETRY_MAX_SECONDS", 3600)
INVITATION_MAX_ATTEMPTS = env_int("INVITATION_MAX_ATTEMPTS", 40)  # about 34 hours of deferrals
INVITATION_DISPATCH_SECONDS = env_int("INVITATION_DISPATCH_SECONDS", 10)

# Webhooks (webhooks/): deliveries retried with backoff (30 s doubling to an hour, with jitter) for a day, then
# failed; an endpoint whose every attempt fails for a day is disabled. Timeouts are short: a slow receiver must
# not hold a worker. Private and loopback targets are refused (SSRF) unless allowed here (tests, a closed network).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_CONNECT_TIMEOUT = float(env_int("WEBHOOK_CONNECT_TIMEOUT", 3))
WEBHOOK_READ_TIMEOUT = float(env_int("WEBHOOK_READ_TIMEOUT", 5))
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24)
WEBHOOK_SEND_LEASE_SECONDS = env_int("WEBHOOK_SEND_LEASE_SECONDS", 120)
WEBHOOK_SEND_PARALLEL = env_int("WEBHOOK_SEND_PARALLEL", 2)
# Seconds between two sweep requests from one process after responses (and the wait before it is published).
WEBHOOK_SWEEP_DEBOUNCE_SECONDS = 0.5

CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # The queue of record: due outbox rows and due invitations are handed to workers from the database.
    "dispatch-outbox": {"task": "outbox.tasks.outbox_dispatch", "schedule": float(OUTBOX_DISPATCH_SECONDS)},
    "dispatch-invitations": {
        "task": "surveys.tasks.invitations_dispatch",
        "schedule": float(INVITATION_DISPATCH_SECONDS),
    },
    # Idempotent: each escalation level of a case is reached once, however often this runs.
    "escalate-overdue-cases": {"task": "feedback.tasks.escalate_overdue_cases", "schedule": 300.0},
    # The closed loop's catch-up: a detractor whose message was lost still gets its case within a minute.
    "sweep-detractors": {
        "task": "feedback.tasks.sweep_detractors",
        "schedule": float(env_int("SWEEP_SECONDS", 60)),
        "kwargs": {"full": True},
    },
    "start-due-campaigns": {"task": "surveys.tasks.campaigns_start_due", "schedule": 60.0},
    "send-reminders": {"task": "surveys.tasks.send_reminders", "schedule": 3600.0},
    "expire-invitations": {"task": "surveys.tasks.expire_invitations", "schedule": 3600.0},
    # Requested after responses too (debounced); this catches what a lost request missed.
    "refresh-rollups": {"task": "reports.tasks.rollup_refresh", "schedule": float(env_int("ROLLUP_SECONDS", 60))},
    "remove-old-exports": {"task": "reports.tasks.exports_remove_old", "schedule": 86400.0},
    # Housekeeping: outbox rows whose task ran, the API's call log and ended webhook deliveries, after their keeping
    # time.
    "remove-done-outbox-rows": {"task": "outbox.tasks.outbox_remove_done", "schedule": 86400.0},
    "remove-old-api-calls": {"task": "api.tasks.api_calls_remove_old", "schedule": 86400.0},
    "remove-old-webhook-deliveries": {"task": "webhooks.tasks.webhooks_remove_old", "schedule": 86400.0},
    "check-alerts": {"task": "reports.tasks.alerts_check", "schedule": 600.0},
    # Comments are read within a minute even when the request after a response was lost; both are idempotent.
    "insight-sweep": {"task": "insight.tasks.comments_sweep", "schedule": 60.0},
    "insight-recompute": {"task": "insight.tasks.comments_recompute", "schedule": 60.0},
    # New responses and finished campaigns become webhook events; due deliveries (retries) are sent.
    "webhooks-sweep": {"task": "webhooks.tasks.webhooks_sweep", "schedule": 30.0, "kwargs": {"full": True}},
    "webhooks-send": {"task": "webhooks.tasks.webhooks_send", "schedule": 15.0},
}

# --- Email: SMTP when EMAIL_HOST is set, otherwise files under var/mail/. ---
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    # Seconds for the connection and for each SMTP command: a silent server delays a chunk, never hangs a worker.
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Lắng Nghe <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Auth ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Password guessing (ISO 27001 A.8.5): after LOGIN_FAILURE_LIMIT wrong passwords an account is locked, and so is
# the client address, each on its own (a list of separate parameters), for LOGIN_COOLOFF_MINUTES. Quality managers
# can unlock earlier (/accounts/lockouts/). Attempts are kept in the database, so every process sees them.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.ratelimit.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Password-reset mail: at most this many per account and per client address per hour.
PASSWORD_RESET_RATE_PER_HOUR = env_int("PASSWORD_RESET_RATE_PER_HOUR", 3)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Languages: English is the source, Vietnamese is complete. ---
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Project formats first, then Django's own (config/formats/vi: short dates with slashes).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

# --- Static files: everything vendored under static/, served by whitenoise; no CDN. ---
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root on every start
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploaded files (corrective-action evidence) live under MEDIA_ROOT and are never served from a public URL: each
# download goes through a view that checks who asks (feedback/views/evidence.py).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# The largest evidence file accepted, in bytes (a scanned report or a few photos; video belongs elsewhere).
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Product settings ---
# How long a new invitation link stays valid.
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 30)
# Answers accepted through a survey's public link per client address per hour (kiosks share an address).
PUBLIC_LINK_RATE_PER_HOUR = env_int("PUBLIC_LINK_RATE_PER_HOUR", 30)
# A customer is invited at most once in this many days, across all surveys (reminders do not count).
INVITATION_THROTTLE_DAYS = env_int("INVITATION_THROTTLE_DAYS", 90)
# Below this many answers a dashboard shows "not enough responses" instead of a figure (ISO 10004: a figure
# without enough answers behind it misleads more than it informs).
REPORTS_MIN_N = env_int("REPORTS_MIN_N", 30)
# Export files hold personal data: they are deleted this many days after they were made.
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)

# REST API (api/): calls each key may make per minute (config/ratelimit.py).
API_RATE_PER_MINUTE = env_int("API_RATE_PER_MINUTE", 600)
# The API's call log (who called what, the answer, how long) is kept this many days.
API_CALL_KEEP_DAYS = env_int("API_CALL_KEEP_DAYS", 90)
# Outbox rows whose task ran are kept this many days (pending and failed rows stay until handled).
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 30)
# Webhook deliveries (with their attempts and events) are kept this many days after their retrying ended.
WEBHOOK_KEEP_DAYS = env_int("WEBHOOK_KEEP_DAYS", 30)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.PerKeyRateLimit"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lắng Nghe API",
    "DESCRIPTION": (
        "Transactional surveys from a CRM, helpdesk or shop, complaint cases and satisfaction figures. "
        'Send `Authorization: Bearer <key>`; errors are `{"error": {"code", "message", "fields"}}` in the '
        "language of `Accept-Language` (English or Vietnamese)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_links"],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "feedback.models.CaseStatus",
        "ResponseChannelEnum": "surveys.models.Response.Channel",
        "InvitationChannelEnum": "surveys.models.Invitation.Channel",
        "InvitationStateEnum": "surveys.models.Invitation.Status",
        "InvitationSkipReasonEnum": "surveys.models.Invitation.Skip",
        "CaseChannelEnum": "api.serializers.API_CHANNELS",
    },
}

# Complaints: the public form accepts this many complaints per client address per hour.
COMPLAINT_FORM_RATE_PER_HOUR = env_int("COMPLAINT_FORM_RATE_PER_HOUR", 5)

# --- Security ---
# How many proxies in front of the app append to X-Forwarded-For (0: none, REMOTE_ADDR is the client). Rate limits
# and login lockouts count per client address (config/ratelimit.py); a wrong count lets a client choose its own.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Unknown, expired or used survey links (and tracking or unsubscribe links) per client address per hour; past it
# the answer is 429. Only failures are counted, so a good link never meets this limit.
BAD_TOKEN_RATE_PER_HOUR = env_int("BAD_TOKEN_RATE_PER_HOUR", 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

# JSON lines on stderr (config/logs.py): time, level, logger, message, request id, user id, task id; tokens in
# URLs masked. LOG_FORMAT=plain for a developer's terminal.
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers (a console under DEBUG, runserver's request lines) print without the filter that
        # masks tokens: "Not Found: /u/<token>/" and "GET /s/<token>/" in clear. Every line goes to ours instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # Task received, started, retried, succeeded and failed, at INFO (celery.app.trace and config/logs.py).
        "celery": {"level": env_str("CELERY_LOG_LEVEL", "INFO")},
        "axes": {"level": "WARNING"},
    },
}
