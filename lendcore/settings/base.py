"""Settings shared by every environment, read from the environment with django-environ.

Defaults give the embedded mode: SQLite in the project folder, Celery tasks run eagerly,
files on local disk and e-mail on the console. Production sets the environment variables
listed in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer's `.env` (never committed) overrides the defaults; the real environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Which settings module is in force; seed_demo refuses "production".
LENDCORE_ENVIRONMENT = "base"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The address borrowers reach the site at: links in e-mails (an invitation, say) start with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long a borrower has to accept staff's invitation to an application in their name.
BORROWER_INVITATION_DAYS = env.int("BORROWER_INVITATION_DAYS", default=14)
# How long an API Idempotency-Key is remembered; an hourly task purges older ones.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# Personal data at rest (lendcore/core/crypto.py): a ring of Fernet keys, newest first.
# Unset: a key file outside the repository, created on first use. Production requires the keys.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")  # one key (earlier releases)
FIELD_ENCRYPTION_KEY_FILE = env.str("FIELD_ENCRYPTION_KEY_FILE", default="~/.lendcore/field-keys")
# Values earlier releases wrote under keys derived from SECRET_KEY still decrypt, until
# `manage.py rotate_field_keys` re-encrypts them; nothing new is written under them.
FIELD_ENCRYPTION_ACCEPT_DERIVED = env.bool("FIELD_ENCRYPTION_ACCEPT_DERIVED", default=True)

# Pluggable adapters (origination/adapters). The sandbox ones are deterministic: see README.
IDENTITY_BACKEND = env.str(
    "IDENTITY_BACKEND", default="origination.adapters.identity.SandboxIdentity"
)
BUREAU_BACKEND = env.str("BUREAU_BACKEND", default="origination.adapters.bureau.SandboxBureau")
BUREAU_HTTP_BASE_URL = env.str("BUREAU_HTTP_BASE_URL", default="")
BUREAU_HTTP_API_KEY = env.str("BUREAU_HTTP_API_KEY", default="")
BUREAU_HTTP_TIMEOUT = env.float("BUREAU_HTTP_TIMEOUT", default=5.0)
BUREAU_HTTP_RETRIES = env.int("BUREAU_HTTP_RETRIES", default=2)
ORIGINATION_DOCUMENT_MAX_BYTES = env.int("ORIGINATION_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)

# Servicing policy knobs.
SERVICING_BACKDATE_WINDOW_DAYS = env.int("SERVICING_BACKDATE_WINDOW_DAYS", default=30)
# How far one change of the business date may jump ahead (days): a jump leaves the days between
# unclosed, so the next close of business or payment works the whole gap out.
SERVICING_BUSINESS_DATE_MAX_JUMP_DAYS = env.int(
    "SERVICING_BUSINESS_DATE_MAX_JUMP_DAYS", default=1096
)
SERVICING_PAYOFF_QUOTE_MAX_DAYS = env.int("SERVICING_PAYOFF_QUOTE_MAX_DAYS", default=30)
SERVICING_MODIFICATION_APPROVAL_LIMIT = env.str(
    "SERVICING_MODIFICATION_APPROVAL_LIMIT", default="25000.00"
)
# How far each role may modify a loan on its own (rates in percent; term and deferral in
# installments). Beyond them, or for a role without a row, the modification waits for a
# second person with approve_modifications (servicing.modification_limits).
SERVICING_MODIFICATION_LIMITS: dict[str, dict[str, str | int]] = {
    "collector": {
        "min_rate_pct": "5",
        "max_rate_cut_pct": "3",
        "max_term_extension": 12,
        "max_defer_installments": 2,
    },
    "servicing_agent": {
        "min_rate_pct": "3",
        "max_rate_cut_pct": "6",
        "max_term_extension": 24,
        "max_defer_installments": 3,
    },
}
# The business date of a new database (ISO date); today's date when unset.
SERVICING_INITIAL_BUSINESS_DATE = env.str("SERVICING_INITIAL_BUSINESS_DATE", default="") or None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "lendcore.core",
    "lendcore.accounts",
    "lendcore.web",
    "lendcore.webhooks",
    "origination",
    "servicing",
    "collections_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "lendcore.core.audit.AuditContextMiddleware",
    "lendcore.accounts.middleware.StaffIdleTimeoutMiddleware",
    "lendcore.accounts.middleware.StaffTwoFactorMiddleware",
    # last: it answers a locked-out login attempt
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts and styles only from our own static files (no
# inline script or style anywhere, the API docs included), nothing framed, forms post home.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "lendcore.urls"
WSGI_APPLICATION = "lendcore.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lendcore.accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Services own their transactions (STYLE.md): no implicit per-request transaction.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# PostgreSQL: the hot statements (a payment's) run as server-side prepared statements of
# the session (lendcore.core.sqlrows), which pays off on persistent connections. Off behind
# a transaction-pooling proxy (PgBouncer's transaction mode), which moves sessions.
DB_PREPARED_STATEMENTS = env.bool(
    "DB_PREPARED_STATEMENTS", default=DATABASES["default"]["CONN_MAX_AGE"] != 0
)
# A read replica of the primary (streaming replication): heavy reads (exports, the dashboard's
# portfolio figures, reports) go there when set; every write, and every other read, goes to
# `default`, so a request reads its own writes (lendcore/core/replica.py). Unset: one database.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"]["ATOMIC_REQUESTS"] = False
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
DATABASE_ROUTERS = ["lendcore.core.replica.PrimaryReplicaRouter"]
# Behind PgBouncer in transaction mode a server-side cursor (the exports' iterator()) cannot
# outlive its transaction: set true there (Django then fetches without one).
for _alias in DATABASES:
    DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DB_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- authentication ----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # first: refuses a locked-out username and address before any password is checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# How many reverse proxies in front of the app append to X-Forwarded-For. 0 (the default):
# the client is REMOTE_ADDR and the header is ignored, so it cannot be forged to dodge a limit.
LENDCORE_TRUSTED_PROXY_COUNT = env.int("LENDCORE_TRUSTED_PROXY_COUNT", default=0)
# Lockout (django-axes) on every login path (portal/staff, admin, API token): after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is refused for
# AXES_COOLOFF_TIME hours (429); a successful login resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "lendcore.core.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "lendcore.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# Staff sign in with a TOTP code as well (django-otp): required for every staff member when
# set (production's default); otherwise only for those who enrolled a device.
LENDCORE_STAFF_2FA_REQUIRED = env.bool("LENDCORE_STAFF_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = "LendCore"
# Staff sessions end after this many idle minutes (borrowers keep Django's session age).
LENDCORE_STAFF_IDLE_MINUTES = env.int("LENDCORE_STAFF_IDLE_MINUTES", default=30)

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:after-login"
LOGOUT_REDIRECT_URL = "web:portal-home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# Files: local disk by default; S3-compatible storage when a bucket is configured.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LendCore <no-reply@lendcore.local>")

# Celery: without a broker the tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
# At least once, with idempotent tasks (README "Reliability"): a task is acknowledged after it
# ran (acks late), handed back when its worker process dies (reject on worker lost), and each
# worker process reserves one message at a time (prefetch 1), so a killed worker neither loses
# a task nor sits on others. Every task is safe to run twice (tests/ops/test_redelivery_*).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands a message nobody acknowledged to another worker after this many seconds (a
# worker machine lost outright). It must outlast the longest task (a 100,000-loan import:
# minutes) and the longest retry countdown (a bureau retry: 16 minutes), or such a task runs
# twice at once; a lost close of business does not wait for it (COB_STALE_SECONDS resumes it).
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _visibility_timeout}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": _visibility_timeout}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# Webhooks (lendcore.webhooks): Standard Webhooks from the transactional outbox.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)  # then dead-lettered
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600.0)
# failed attempts in a row (across deliveries) that disable a subscription; 0: never
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=100)
WEBHOOK_SECRET_OVERLAP = timedelta(hours=env.float("WEBHOOK_SECRET_OVERLAP_HOURS", default=24))
WEBHOOK_RESPONSE_BODY_CHARS = 2000  # of each answer kept with its attempt
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=200)
WEBHOOK_CONCURRENCY = env.int("WEBHOOK_CONCURRENCY", default=16)  # posts at a time per task
WEBHOOK_TASK_SECONDS = env.float("WEBHOOK_TASK_SECONDS", default=50.0)
WEBHOOK_KICK_ON_COMMIT = env.bool("WEBHOOK_KICK_ON_COMMIT", default=True)
# SSRF guard: private, loopback and reserved addresses are refused unless this is on
# (local and test settings only; never in production)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "lendcore.accounts.permissions.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Request bodies are JSON, where null, numbers and lists mean what the schema says; a form
    # encoding cannot tell "null" from the text "null". Uploads declare their own parsers.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "lendcore.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "lendcore.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "lendcore.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["lendcore.accounts.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "quote": env.str("QUOTE_THROTTLE_RATE", default="120/minute"),
        "auth": env.str("AUTH_THROTTLE_RATE", default="30/minute"),
        # per API token: an integration posting a day's payments is not slowed, a leaked
        # token in a loop is
        "token": env.str("TOKEN_THROTTLE_RATE", default="6000/minute"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    # Throttles identify a client as the lockout does (X-Forwarded-For only behind proxies).
    "NUM_PROXIES": LENDCORE_TRUSTED_PROXY_COUNT,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LendCore API",
    "DESCRIPTION": (
        "Origination and servicing of loans. Money is a string with two decimals; "
        "mutations accept an `Idempotency-Key` header; errors answer "
        '`{"message", "code", "extra"}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # `<id:...>` path segments (lendcore.core.converters): bigint ids.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    },
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "origination.models.Application.Status",
        "LoanStatusEnum": "servicing.models.LoanStatus",
        "PaymentStatusEnum": "servicing.models.PaymentStatus",
        "PaymentMethodEnum": "servicing.models.PaymentMethod",
        "DocumentTypeEnum": "origination.models.Document.DocType",
        "UploadDocumentTypeEnum": "origination.models.Document.UPLOAD_TYPES",
        "FeeBasisEnum": "origination.models.ProductVersion.FeeBasis",
        "FeeTimingEnum": "origination.models.ProductVersion.FeeTiming",
        "ServicingFeeKindEnum": "servicing.models.FeeKind",
        "CollectionCaseStatusEnum": "collections_app.models.CollectionCase.Status",
        "ChannelEnum": "origination.models.Application.Channel",
        "ContactChannelEnum": "collections_app.models.ContactChannel",
        "ContactDirectionEnum": "collections_app.models.Contact.Direction",
        "ContactOutcomeEnum": "collections_app.models.Contact.Outcome",
        "PromiseStatusEnum": "collections_app.models.PromiseToPay.Status",
        "HardshipPlanKindEnum": "collections_app.models.HardshipPlan.Kind",
        "HardshipPlanStatusEnum": "collections_app.models.HardshipPlan.Status",
        "ChargeOffRecommendationStatusEnum": (
            "collections_app.models.ChargeOffRecommendation.Status"
        ),
        "WebhookDeliveryStatusEnum": "lendcore.webhooks.models.WebhookDelivery.Status",
        "LoanImportStatusEnum": "origination.models.imports.LoanImportStatus",
    },
}

CACHES = {
    "default": (
        env.cache("CACHE_URL")
        if env.str("CACHE_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Redis down must not take the API down with it: the throttles' counters and the webhook
# kick, all the cache holds, do without it for a while (lendcore/core/cache.py).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "lendcore.core.cache.FailOpenRedisCache"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Chatty libraries: their INFO lines (per PDF step, per font) drown the useful ones.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Other apps' close-of-business steps, run after days past due and buckets in each scope
# (servicing.cob.config.extra_steps): collections opens, follows and cures its cases.
COB_EXTRA_STEPS = (
    "collections_app.cob.collections_close",
    "collections_app.dunning.dunning_queue",  # after the cases are brought up to date
)
# Close of business opens a collection case at this many days past due.
COLLECTIONS_OPEN_DPD = 1
