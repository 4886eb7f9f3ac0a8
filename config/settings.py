"""Lắng Nghe settings: the one place that reads the environment.

With nothing set, the app runs with embedded defaults: SQLite under var/, Celery tasks run eagerly in-process and
emails are written as files under var/mail/. With DJANGO_ENV=production (or DEBUG off) it refuses to start without
SECRET_KEY, ALLOWED_HOSTS and SITE_URL. See README.md for every variable.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_required, env_str, refuse_unsafe_production

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
    "surveys",
    "insight",
    "feedback",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.middleware.AuditActorMiddleware",
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
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL and a busy timeout let the dev server and an in-process task write without "database is locked".
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The respondent path prepares its two statements per connection (surveys/fastpath.py). Turn off behind a pooler
# in transaction mode (e.g. PgBouncer pool_mode=transaction), where prepared statements do not survive.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)

# --- Cache and Celery: Redis when REDIS_URL is set, otherwise in-process. ---
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
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
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Idempotent: a case is escalated once, however often this runs.
    "escalate-overdue-cases": {"task": "feedback.tasks.escalate_overdue_cases", "schedule": 300.0},
    # The closed loop's catch-up: a detractor whose message was lost still gets its case within a minute.
    "sweep-detractors": {"task": "feedback.tasks.sweep_detractors", "schedule": 60.0},
    "start-due-campaigns": {"task": "surveys.tasks.campaigns_start_due", "schedule": 60.0},
    "send-reminders": {"task": "surveys.tasks.send_reminders", "schedule": 3600.0},
    "expire-invitations": {"task": "surveys.tasks.expire_invitations", "schedule": 3600.0},
    "reconcile-stopped-sends": {"task": "surveys.tasks.reconcile_stopped_sends", "schedule": 900.0},
    # Requested after responses too (debounced); this catches what a lost request missed.
    "refresh-rollups": {"task": "reports.tasks.rollup_refresh", "schedule": 120.0},
    "remove-old-exports": {"task": "reports.tasks.exports_remove_old", "schedule": 86400.0},
    "check-alerts": {"task": "reports.tasks.alerts_check", "schedule": 600.0},
    # Comments are read within a minute even when the request after a response was lost; both are idempotent.
    "insight-sweep": {"task": "insight.tasks.comments_sweep", "schedule": 60.0},
    "insight-recompute": {"task": "insight.tasks.comments_recompute", "schedule": 60.0},
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "celery": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
