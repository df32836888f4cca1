"""Django settings for Kesher. Every value comes from config.env; the defaults run the embedded mode."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env_bool, env_int, env_list, env_str

KESHER_ENV = env_str("KESHER_ENV", "development")
PRODUCTION = KESHER_ENV == "production"
DEBUG = env_bool("KESHER_DEBUG", default=False)

VAR_DIR = Path(env_str("KESHER_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("KESHER_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("KESHER_SECRET_KEY must be set when KESHER_ENV=production")
    SECRET_KEY = "kesher-embedded-mode-not-for-production"

ALLOWED_HOSTS = env_list("KESHER_ALLOWED_HOSTS", ["*"] if not PRODUCTION else [])
CSRF_TRUSTED_ORIGINS = env_list("KESHER_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # django-axes: the one lock-out policy for every password sign-in (kesher/members/lockout.py).
    "axes",
    # Before allauth: its page layout is overridden by kesher/web/templates/allauth/ (first app wins).
    "kesher.web",
    "allauth",
    "allauth.account",
    "kesher.core",
    "kesher.brands",
    "kesher.members",
    "kesher.activity",
    "kesher.loyalty",
    "kesher.community",
    "kesher.campaigns",
    "kesher.magazine",
    # feedback: peers above the community (reviews, the ideas board and beta programs, surveys)
    "kesher.reviews",
    "kesher.ideas",
    "kesher.surveys",
    # service: the inbox, above feedback (a detractor's answer or a community post opens a case)
    "kesher.service",
    # the whole customer: parts that read or act across every other one
    "kesher.insights",
    "kesher.customers",
    "kesher.privacy",
    "kesher.webhooks",
    "kesher.listening",
    "kesher.recs",
    "kesher.api",
    # django-ninja's own templates and static files: the API docs' Swagger UI is served from Kesher's
    # static files (a CDN otherwise), so /api/v1/docs works with no internet.
    "ninja",
]

MIDDLEWARE = [
    "kesher.core.middleware.RequestIdMiddleware",
    "kesher.api.middleware.RateLimitHeadersMiddleware",
    # The one input rule (control characters, NFC, lengths, chunked bodies) for the API and the pages.
    "kesher.core.input.InputMiddleware",
    "kesher.api.middleware.ApiShortcutMiddleware",  # /api/ goes on through its API_MIDDLEWARE
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kesher.core.middleware.DomainErrorPagesMiddleware",
    # Last, so it sees the answer of every login view: a locked-out attempt gets the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kesher.web.context.kesher",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("KESHER_DATABASE_URL", f"sqlite:///{VAR_DIR / 'kesher.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("KESHER_DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and a CLI command share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Django's backend with a health check that looks at the socket instead of asking the server
    # (kesher/core/postgresql/base.py): it runs before every request's first statement.
    DATABASES["default"]["ENGINE"] = "kesher.core.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Parameters travel apart from the SQL (psycopg's server-side binding) rather than being quoted into
    # it in Python, and a statement run five times on a connection is prepared there: parsed and planned
    # once, which halved PostgreSQL's CPU per API request.
    DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASES["default"]["OPTIONS"].setdefault(
        "server_side_binding", env_bool("KESHER_DB_SERVER_SIDE_BINDING", default=True)
    ):
        # Django leaves psycopg's statement preparation off (None) unless asked.
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- caches -------------------------------------------------------------------------------------
# "default" holds what every process must agree on: the community pages' versions, journey triggers,
# send and forward budgets and view counts. "pages" holds rendered pages and fragments, whose keys carry
# the versions they were rendered under, so a process's own copy is never stale. With KESHER_CACHE_URL
# all of it lives in Redis (the API keys' rate limit too, see kesher/api/auth.py). In the embedded mode
# "default" is a file cache under var/cache that every worker process reads (kesher/core/filecache.py),
# "pages" is each process's own, and so is "ratelimit": counting an API call in the shared file cost
# 0.2 ms against microseconds in memory, so there a key's limit holds per worker process.
CACHE_URL = env_str("KESHER_CACHE_URL")
CACHES: dict[str, dict[str, Any]]
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL},
        "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL},
        "ratelimit": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "kesher.core.filecache.SharedFileCache",
            "LOCATION": env_str("KESHER_CACHE_DIR", str(VAR_DIR / "cache")),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "kesher-pages",
            "OPTIONS": {"MAX_ENTRIES": 2_000},
        },
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kesher-rl"},
    }

# --- background work ----------------------------------------------------------------------------
BROKER_URL = env_str("KESHER_BROKER_URL")
CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "Asia/Jerusalem"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Activities' deferred consumers are relayed from the outbox a second after they commit (asked for
    # by the web process); this catches any whose relay was lost with a worker.
    "activity-outbox-relay": {"task": "kesher.activity.tasks.outbox_relay", "schedule": 30.0},
    "loyalty-tick": {"task": "kesher.loyalty.tasks.loyalty_tick", "schedule": 600.0},
    "tiers-review": {"task": "kesher.loyalty.tasks.tiers_review_all", "schedule": 86_400.0},
    # Insights (RFM cut points, BG/NBD and Gamma-Gamma fits) are recomputed once a day.
    "insights-refresh": {"task": "kesher.insights.tasks.insights_refresh_all_task", "schedule": 86_400.0},
    # Held messages (quiet hours, retries) are handed over every minute.
    "campaigns-dispatch-due": {"task": "kesher.campaigns.tasks.messages_dispatch_due_task", "schedule": 60.0},
    "journeys-advance": {"task": "kesher.campaigns.tasks.journeys_advance_task", "schedule": 60.0},
    # A/B tests whose wait is over get their winner chosen and sent to the rest of the audience.
    "campaigns-ab-decide": {"task": "kesher.campaigns.tasks.ab_tests_decide_task", "schedule": 300.0},
    # Community digests by email: hourly; each member's daily or weekly digest goes out once, after 08:00.
    "community-digest-send": {"task": "community.digest_send", "schedule": 3600.0},
    # Last month's "helpful member of the month" badge; daily, and awarded once a month.
    "community-helpful-month": {
        "task": "kesher.community.tasks.badges_helpful_month_all",
        "schedule": 86_400.0,
    },
    # Privacy: prospects who never joined are erased once the brand's retention period is over (nightly).
    "privacy-retention": {"task": "kesher.privacy.tasks.retention_run_all_task", "schedule": 86_400.0},
    "listening-poll": {"task": "kesher.listening.tasks.listening_poll", "schedule": 300.0},
    "ideas-expire": {"task": "kesher.ideas.tasks.ideas_expire_task", "schedule": 86_400.0},
    # Reviews: ask every buyer for a review N days after the purchase, once per product (no gating).
    "reviews-requests": {"task": "kesher.reviews.tasks.review_requests_daily", "schedule": 86_400.0},
    # Webhook deliveries whose retry is due (each fan-out also asks for the dispatcher at once).
    "webhooks-dispatch": {"task": "kesher.webhooks.tasks.webhooks_dispatch", "schedule": 5.0},
}

# --- email --------------------------------------------------------------------------------------


def _email_settings(url: str) -> dict[str, object]:
    if not url or url.startswith("console:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url.startswith("locmem:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parsed = urlparse(url)
    if parsed.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(
            f"KESHER_EMAIL_URL must be smtp://, smtps://, console:// or locmem://, got {url!r}"
        )
    query = parse_qs(parsed.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true"},
    }


globals().update(_email_settings(env_str("KESHER_EMAIL_URL")))
DEFAULT_FROM_EMAIL = env_str("KESHER_DEFAULT_FROM_EMAIL", "Kesher <club@localhost>")
# Campaigns: the public address links in messages point to, and the SMS provider (campaigns/channels.py).
KESHER_BASE_URL = env_str("KESHER_BASE_URL", "http://127.0.0.1:8000")
KESHER_SMS_URL = env_str("KESHER_SMS_URL", "console:")
# A mail server that stops answering fails the send after this many seconds instead of holding a worker.
EMAIL_TIMEOUT = env_int("KESHER_EMAIL_TIMEOUT", 30)
# A delivery claim lasts this long unless its worker renews it (every quarter of it, while sending): the
# messages of a worker that died are queued again within it plus a minute (docs/campaigns.md).
KESHER_CAMPAIGNS_CLAIM_LEASE_SECONDS = env_int("KESHER_CAMPAIGNS_CLAIM_LEASE_SECONDS", 120)
# Bounds on rendering one campaign message (campaigns/rendering.py): loop iterations over all its parts,
# characters per part (subject, body, block), and milliseconds. Past one, a save or preview is a 422 and a
# message at send time is failed with the reason.
KESHER_CAMPAIGN_RENDER_MAX_LOOPS = env_int("KESHER_CAMPAIGN_RENDER_MAX_LOOPS", 10_000)
KESHER_CAMPAIGN_RENDER_MAX_CHARS = env_int("KESHER_CAMPAIGN_RENDER_MAX_CHARS", 100_000)
KESHER_CAMPAIGN_RENDER_MAX_MS = env_int("KESHER_CAMPAIGN_RENDER_MAX_MS", 250)
# Outbound webhooks (kesher/webhooks/sending.py): endpoints on private, loopback or reserved addresses are
# refused unless this is on (it is in the embedded mode, for development); each post waits this long.
KESHER_WEBHOOKS_ALLOW_PRIVATE = env_bool("KESHER_WEBHOOKS_ALLOW_PRIVATE", default=not PRODUCTION)
KESHER_WEBHOOKS_TIMEOUT_SECONDS = env_int("KESHER_WEBHOOKS_TIMEOUT_SECONDS", 15)
KESHER_WEBHOOKS_SEND_CONCURRENCY = env_int("KESHER_WEBHOOKS_SEND_CONCURRENCY", 16)

# --- auth (django-allauth) ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: it refuses any password check for a locked-out login, whichever page asked (allauth's
    # /accounts/login/, the admin's /admin/login/, reauthentication), before the others look at it.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("KESHER_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
# Links a login to the club cards with its verified email, in every brand (kesher/web/accounts.py).
ACCOUNT_ADAPTER = "kesher.web.accounts.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
# allauth's own counting of logins and failed logins is off (it kept its counts in each process's memory
# and only for its own page): django-axes below is the one lock-out policy, the same at every sign-in page.
# allauth's throttles on signing up, password-reset emails and email confirmations stay.
ACCOUNT_RATE_LIMITS = {"login": None, "login_failed": None}
LOGIN_REDIRECT_URL = "/portal/"
LOGIN_URL = "/accounts/login/"

# --- sign-in lock-out (django-axes; docs/security.md "Lock-out") -----------------------------------
# Counted in the database (AccessAttempt rows), so every web process and machine sees the same count.
AXES_HANDLER = "kesher.members.lockout.LockoutHandler"
# A login from one address is locked after this many wrong passwords in a row...
AXES_FAILURE_LIMIT = env_int("KESHER_LOGIN_FAILURE_LIMIT", 5)
# ...and an address, whatever logins it tries, after this many (credential stuffing).
KESHER_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("KESHER_LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=env_int("KESHER_LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# A wrong password while locked does not push the end of the cool-off further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The same person is one login whether they typed their email (allauth) or their username (the admin).
AXES_USERNAME_CALLABLE = "kesher.members.lockout.login_identity"
AXES_LOCKOUT_CALLABLE = "kesher.members.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Kesher's own admin page for locked logins unlocks through the audited service (kesher/members/admin.py).
AXES_ENABLE_ADMIN = False
# REMOTE_ADDR only, as everywhere in Kesher: a forwarded header is whatever the client wrote.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_VERBOSE = False

# --- internationalisation: Hebrew first ---------------------------------------------------------
LANGUAGE_CODE = "he"
LANGUAGES = [("he", _("Hebrew")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kesher" / "locale"]
FORMAT_MODULE_PATH = ["kesher.web.formats"]  # Hebrew numbers grouped by thousands (kesher/web/formats/he)
TIME_ZONE = "Asia/Jerusalem"
USE_I18N = True
USE_TZ = True

# --- static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
with contextlib.suppress(OSError):  # WhiteNoise warns on every start without it (tests, benchmarks)
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- uploaded files (reward images, photos): a local folder by default, any S3-compatible store -----
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("KESHER_MEDIA_DIR", str(VAR_DIR / "media")))
KESHER_S3_BUCKET = env_str("KESHER_S3_BUCKET")
if KESHER_S3_BUCKET:  # django-storages; the keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": KESHER_S3_BUCKET,
            "endpoint_url": env_str("KESHER_S3_ENDPOINT_URL") or None,
            "region_name": env_str("KESHER_S3_REGION") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": env_bool("KESHER_S3_SIGNED_URLS", True),
        },
    }

# --- encryption at rest (kesher/core/crypto.py): Fernet keys, newest first ------------------------------
KESHER_ENCRYPTION_KEYS = env_list("KESHER_ENCRYPTION_KEYS", [])
if PRODUCTION and not KESHER_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("KESHER_ENCRYPTION_KEYS must be set when KESHER_ENV=production")

# --- requests and API ---------------------------------------------------------------------------
KESHER_MAX_BODY_BYTES = env_int("KESHER_MAX_BODY_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = KESHER_MAX_BODY_BYTES
KESHER_RATE_LIMIT_PER_MINUTE = env_int("KESHER_RATE_LIMIT_PER_MINUTE", 6000)
# With Redis: how often a process adds a key's calls to the shared count and reads the keys' generation
# while the key is under half its limit (kesher/api/auth.py); 0 does it on every call.
KESHER_RATE_LIMIT_SYNC_MS = env_int("KESHER_RATE_LIMIT_SYNC_MS", 500)
NINJA_PAGINATION_PER_PAGE = 50

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- logging: one JSON object a line, with the request id ---------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "kesher.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "kesher.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env_str("KESHER_LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("KESHER_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # Tasks run inside the web process in the embedded mode: a line per task there is noise (a
        # worker logs its tasks through its own logging setup).
        **({"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
