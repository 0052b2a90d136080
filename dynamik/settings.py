"""Settings for every environment; production differs from development by environment variables only.

Every variable is documented in `.env.example`. With DEBUG=true and nothing else set, the app runs on embedded
defaults: SQLite under var/, kombu's filesystem broker under var/, a file cache, the console e-mail backend and
development secrets generated once into var/. With DEBUG=false, secrets must come from the environment.
"""

import ipaddress
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

VAR_DIR = Path(env.str("DYNAMIK_VAR_DIR", default=str(BASE_DIR / "var")))
if not VAR_DIR.is_absolute():
    VAR_DIR = BASE_DIR / VAR_DIR
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret(name: str, make: Callable[[], str]) -> str:
    """A development-only secret, generated once and kept in var/ so restarts keep sessions and keys."""
    path = VAR_DIR / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    if name not in stored:
        stored[name] = make()
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored[name]


def secret(name: str, *, dev_default: Callable[[], str]) -> str:
    """NAME_FILE (a mounted secret) if set, else NAME; in DEBUG a generated value; else refuse to start."""
    if path := env.str(f"{name}_FILE", default=""):
        return Path(path).read_text().strip()
    if value := env.str(name, default=""):
        return value
    if DEBUG:
        return _dev_secret(name, dev_default)
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is false (or {name}_FILE).")


SECRET_KEY = secret("SECRET_KEY", dev_default=lambda: secrets.token_urlsafe(50))

# Keys for the stored Tripletex tokens, independent of SECRET_KEY: the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in secret(
        "FIELD_ENCRYPTION_KEYS", dev_default=lambda: Fernet.generate_key().decode()
    ).split(",")
    if key.strip()
]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from exc
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The staff admin, on a site that requires a verified second factor (companies/admin_site.py).
    "companies.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Second factor (README "Security"): django-otp's core, with devices of our own that keep no
    # secret in plaintext (companies.twofactor). django-otp's otp_totp and otp_static plugins,
    # which do, are not installed (their rows were moved by twofactor's migration 0002).
    "django_otp",
    "companies",
    "companies.twofactor",
    "tripletex",
    "ledger",
]

MIDDLEWARE = [
    # First: X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) is believed only from TRUSTED_PROXIES.
    "dynamik.middleware.TrustedProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "dynamik.middleware.SecurityHeadersMiddleware",
    "dynamik.middleware.PrivatePagesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dynamik.middleware.SessionIdleMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "companies.mfa.MfaRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "companies.tenancy.CompanyMiddleware",
]

ROOT_URLCONF = "dynamik.urls"
WSGI_APPLICATION = "dynamik.wsgi.application"

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
                "companies.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL (psycopg 3) from DATABASE_URL, else a SQLite file under var/.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks and take write locks up front.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so a worker process started by a test sees the test database; one per test
    # process, so that concurrent test runs do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dynamik"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dynamik"),
        }
    }

AUTH_USER_MODEL = "companies.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A session ends after this long without a request, a working day by default (sliding:
# dynamik.middleware.SessionIdleMiddleware); a staff session also ends when the browser closes.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=8 * 3600)
if SESSION_IDLE_SECONDS < 60:
    raise ImproperlyConfigured("SESSION_IDLE_SECONDS must be at least 60.")
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
# The login throttle of every door (companies/throttle.py, README "Security"): failures for one
# e-mail from one address, and from one address whatever the e-mail, before a pause of
# LOGIN_THROTTLE_SECONDS after the last failure.
LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = env.int("LOGIN_THROTTLE_ACCOUNT_ATTEMPTS", default=5)
LOGIN_THROTTLE_ADDRESS_ATTEMPTS = env.int("LOGIN_THROTTLE_ADDRESS_ATTEMPTS", default=30)
LOGIN_THROTTLE_SECONDS = env.int("LOGIN_THROTTLE_SECONDS", default=900)
# The public key-request page (companies/intake/): submissions per client address before a pause of
# INTAKE_THROTTLE_SECONDS (each costs live Tripletex calls), and its bot check: a signed form token
# is good for INTAKE_FORM_MAX_AGE_SECONDS, once, and not before INTAKE_FORM_MIN_SECONDS.
INTAKE_THROTTLE_ATTEMPTS = env.int("INTAKE_THROTTLE_ATTEMPTS", default=10)
INTAKE_THROTTLE_SECONDS = env.int("INTAKE_THROTTLE_SECONDS", default=3600)
INTAKE_FORM_MIN_SECONDS = env.int("INTAKE_FORM_MIN_SECONDS", default=3)
INTAKE_FORM_MAX_AGE_SECONDS = env.int("INTAKE_FORM_MAX_AGE_SECONDS", default=2 * 3600)
# The reverse proxy in front (addresses or networks): only a request from one of them has its
# client address taken from X-Forwarded-For, the TRUSTED_PROXY_COUNT-th entry from the right.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or network."
        ) from exc
# Authenticator apps show this name beside the account.
OTP_TOTP_ISSUER = "Dynamik"
PASSWORD_RESET_TIMEOUT = env.int("INVITATION_TIMEOUT_SECONDS", default=7 * 24 * 3600)

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files once collectstatic has run (the Docker image does); plain names before that
# (development, tests), served from the source folders.
_COLLECTED = (STATIC_ROOT / "staticfiles.json").is_file()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not _COLLECTED
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS

# Security headers and cookies; HSTS and secure cookies only when not DEBUG.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Behind the TLS proxy, its X-Forwarded-Proto says whether the client used HTTPS. Django believes
# that header from anyone, so TrustedProxyHeadersMiddleware drops it from any other sender, and
# the proxy must be named in TRUSTED_PROXIES.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    if not TRUSTED_PROXIES:
        raise ImproperlyConfigured(
            "BEHIND_TLS_PROXY=true needs TRUSTED_PROXIES, the proxy's address: X-Forwarded-Proto "
            "is believed only from it."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Dynamik <hello@dynamik.no>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Tripletex: production by default; the test environment is https://api-test.tripletex.tech/v2 and
# `make run` points at the local sandbox.
TRIPLETEX_BASE_URL = env.str("TRIPLETEX_BASE_URL", default="https://tripletex.no/v2").rstrip("/")
TRIPLETEX_CONSUMER_TOKEN = secret(
    "TRIPLETEX_CONSUMER_TOKEN", dev_default=lambda: "sandbox-consumer-token"
)
# Links to vouchers open in Tripletex's web UI.
TRIPLETEX_WEB_URL = env.str("TRIPLETEX_WEB_URL", default="https://tripletex.no").rstrip("/")
TRIPLETEX_CONNECT_TIMEOUT = env.float("TRIPLETEX_CONNECT_TIMEOUT", default=10.0)
TRIPLETEX_READ_TIMEOUT = env.float("TRIPLETEX_READ_TIMEOUT", default=30.0)
# Booking: how long after a POST with an unclear outcome "not found" may be trusted before posting
# again (longer than any POST can take), and how old a "booking" claim must be before the resolver
# takes it over.
BOOKING_SETTLE_SECONDS = env.float("BOOKING_SETTLE_SECONDS", default=120.0)
BOOKING_STUCK_SECONDS = env.float("BOOKING_STUCK_SECONDS", default=600.0)
# Contract notes (ledger/contract_notes/): the folder their files are kept in, one folder per
# company, never served from a URL (only through the company's own download page), and the largest
# file taken. Web and workers must see the same folder (docker-compose.yml shares a volume).
CONTRACT_NOTES_ROOT = Path(env.str("CONTRACT_NOTES_ROOT", default="") or VAR_DIR / "contract-notes")
if not CONTRACT_NOTES_ROOT.is_absolute():
    CONTRACT_NOTES_ROOT = BASE_DIR / CONTRACT_NOTES_ROOT
CONTRACT_NOTE_MAX_BYTES = env.int("CONTRACT_NOTE_MAX_BYTES", default=10 * 1024 * 1024)
# The night's plan (ledger/sync/night.py) paces each Tripletex key's syncs to this limit: calls per
# window per employee token, of which it leaves a fifth to bookings and "Sync now". Tripletex
# publishes no numbers (its API reads them out in X-Rate-Limit-* headers); the one sample recorded
# against a real test company was a limit of 100, the window's length unknown, so we assume the
# cautious reading, a minute (README "The night's plan").
TRIPLETEX_KEY_LIMIT = env.int("TRIPLETEX_KEY_LIMIT", default=100)
TRIPLETEX_KEY_WINDOW_SECONDS = env.float("TRIPLETEX_KEY_WINDOW_SECONDS", default=60.0)
# How often beat runs the sync dispatcher; it also sends each nightly run due before its next
# round with a countdown to the planned second (at most 10 minutes ahead).
SYNC_DISPATCH_SECONDS = env.float("SYNC_DISPATCH_SECONDS", default=300.0)

# Celery: Redis when REDIS_URL/CELERY_BROKER_URL is set, else kombu's filesystem transport under var/
# (a real broker for a real worker and beat, not eager mode).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
BROKER_VISIBILITY_TIMEOUT = 3600
# A sync task is stopped after this long (soft: SoftTimeLimitExceeded, the run is marked failed;
# hard: the pool process is killed), so with the longest retry countdown (10 min) it stays well
# inside the visibility timeout and is never running on two workers at once. Celery enforces time
# limits on the prefork (default) and gevent pools, not on threads (Workers Guide, "Time Limits").
SYNC_SOFT_TIME_LIMIT = 30 * 60
SYNC_TIME_LIMIT = SYNC_SOFT_TIME_LIMIT + 5 * 60
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis hands a message not acknowledged within this many seconds to another worker (Celery's
    # Redis guide, "Visibility timeout"; one hour is also its default, set here because tasks rely on
    # it). With acks_late that includes a retry's countdown and the run itself, so the sync tasks'
    # time limits plus the longest countdown stay below it (tests/ledger/test_sync.py checks).
    # The socket timeouts make a dead or hung Redis an error within seconds: without them a publish
    # to a Redis that accepts the TCP connection but never answers waits forever (kombu's Redis
    # transport docs, `socket_timeout`), so "Book" would hang instead of saying the row is queued.
    # The read timeout stays well above the 1 s BRPOP a worker polls with.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
# A publish that fails is retried once right away (a pooled connection may predate a Redis
# restart: the retry reconnects), then raises kombu.exceptions.OperationalError; Celery's default
# (3 retries, ~1 s) only delays the same answer. Booking catches it: the row is already committed
# as queued and the resolver sends it when a worker is back (ledger/booking/protocol.py).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# The worker outlives its broker: it reconnects for as long as Redis is away (None = forever; the
# default gives up after 100 tries, and 0 means no retry at all, celery/celery#8626), and the
# consumer class tolerates kombu's closed-connection AttributeError (dynamik/celery.py has the
# cause). Running bookings are not cancelled on connection loss: each finishes and records its
# outcome in the database, which is the truth; a duplicate run is harmless (claimed by a
# conditional update).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_CONSUMER = "dynamik.celery:BrokerTolerantConsumer"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Two queues by kind of work, each with its own workers, so a booking or an accountant's "Sync now"
# never waits behind the nightly sync of every firm: `interactive` (bookings, Sync now, the short
# beat chores) and `batch` (the nightly and intraday syncs, the nightly reconcile). Tasks are routed
# by their stable names; the sync task serves both a click and the night, so its caller picks the
# queue when it enqueues (ledger/queue.py). CELERY_QUEUE names the interactive queue (the default
# for anything unrouted); CELERY_BATCH_QUEUE the batch queue, by default "<CELERY_QUEUE>-batch"
# when only CELERY_QUEUE is set, so each test run and benchmark gets its own pair of queues.
CELERY_QUEUE = env.str("CELERY_QUEUE", default="interactive")
CELERY_BATCH_QUEUE = env.str(
    "CELERY_BATCH_QUEUE",
    default=f"{CELERY_QUEUE}-batch" if "CELERY_QUEUE" in os.environ else "batch",
)
CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUE
# Declared, so a worker started without -Q (make run) consumes both.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in (CELERY_QUEUE, CELERY_BATCH_QUEUE)
]
_INTERACTIVE = {"queue": CELERY_QUEUE}
_BATCH = {"queue": CELERY_BATCH_QUEUE}
CELERY_TASK_ROUTES = {
    "ledger.booking_tasks.transaction_book_task": _INTERACTIVE,
    "ledger.booking_tasks.transactions_book_batch_task": _INTERACTIVE,
    "ledger.booking_tasks.bookings_resolve_stuck_task": _INTERACTIVE,
    "ledger.booking_tasks.bookings_refresh_approved_task": _INTERACTIVE,
    "ledger.contract_note_tasks.contract_notes_upload_task": _INTERACTIVE,
    "ledger.contract_note_tasks.contract_notes_resolve_task": _INTERACTIVE,
    "ledger.booking_tasks.bookings_reconcile_task": _BATCH,
    # Scheduled runs; "Sync now" sends the same task to the interactive queue (ledger/queue.py).
    "ledger.sync_tasks.balances_sync_task": _BATCH,
    # After a full run (ledger/budgets/sync.py); sent to the run's own queue.
    "ledger.budget_tasks.budgets_sync_task": _BATCH,
    # The dispatcher and the re-check marker only write a few rows: they must not wait behind
    # the runs they plan.
    "ledger.sync_tasks.sync_due_dispatch_task": _INTERACTIVE,
    "ledger.sync_tasks.sync_recheck_mark_due_task": _INTERACTIVE,
    "companies.tasks.heartbeat_task": _INTERACTIVE,
}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Each queue's workers record that they are alive (GET /healthz reports both).
    "heartbeat": {"task": "companies.tasks.heartbeat_task", "schedule": 60.0},
    "heartbeat-batch": {
        "task": "companies.tasks.heartbeat_task",
        "schedule": 60.0,
        "args": ["worker-batch"],
        "options": {"queue": CELERY_BATCH_QUEUE},
    },
    # Rows stuck in "booking" (a worker died mid-post) are looked up and finished.
    "bookings-resolve-stuck": {
        "task": "ledger.booking_tasks.bookings_resolve_stuck_task",
        "schedule": 120.0,
    },
    # Contract notes whose upload to a booked voucher was left unfinished (a worker died, a task
    # was lost) are sent again, the voucher looked at first.
    "contract-notes-resolve": {
        "task": "ledger.contract_note_tasks.contract_notes_resolve_task",
        "schedule": 120.0,
    },
    # Vouchers sent for approval (sendToLedger=false): record their numbers once approved.
    "bookings-refresh-approved": {
        "task": "ledger.booking_tasks.bookings_refresh_approved_task",
        "schedule": 600.0,
    },
    # Nightly: rows booked in the last 60 days pick up reversals and deletions made in Tripletex.
    "bookings-reconcile": {
        "task": "ledger.booking_tasks.bookings_reconcile_task",
        "schedule": crontab(minute=10, hour=1),
    },
    # Figures sync: each company's nightly run (its own time, spread over 00:30–05:30) and the
    # intraday refresh of the current month are queued by this dispatcher when due.
    "ledger-sync-due": {
        "task": "ledger.sync_tasks.sync_due_dispatch_task",
        "schedule": SYNC_DISPATCH_SECONDS,
    },
    # Weekly: the next nightly sync of every company re-pulls its closed months (reopened periods).
    "ledger-sync-recheck-weekly": {
        "task": "ledger.sync_tasks.sync_recheck_mark_due_task",
        "schedule": crontab(minute=0, hour=0, day_of_week="sunday"),
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "tripletex.redact.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full URLs at DEBUG, and session creation carries tokens in the query string.
        "urllib3": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint (the report pack PDF) logs each layout step at INFO; fontTools its subsetting.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
