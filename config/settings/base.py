"""All settings of the portal, read from the environment with secure defaults.

Production differs from local use only in environment values (see `.env.example`). DEBUG is off, HTTPS and
secure cookies are on, and every secret is required unless the environment provides it.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.branding import BRAND_COLOURS
from core.http_headers import static_file_headers

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# --- Core -------------------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
SITE_ID = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "issuer_portal.apps.StaffAdminConfig",  # django.contrib.admin whose default site requires a second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # runserver too serves static files through whitenoise, with its headers
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "rest_framework",
    "knox",
    "rest_framework_api_key",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "users",
    "audit",
    "issuer_portal",
    "cardholders",
    "provisioning",
    "landing",
    "api",
    "issuer_services",
    "webhooks",
]
PORTAL_DEMO = env.bool("PORTAL_DEMO", default=False)
if PORTAL_DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.IdleSessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the query or the body; after the headers and the language its answers need.
    "core.middleware.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.CardholderLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.AbsoluteSessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
]

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
                "core.context_processors.portal",
            ],
        },
    },
]

# --- Request limits ---------------------------------------------------------------------------------------------
# No page or endpoint takes more: forms and API bodies are a few kilobytes (uploaded files are limited apart, by
# FILE_UPLOAD_MAX_MEMORY_SIZE and the admin's form). core.middleware.RequestLimitsMiddleware refuses bigger bodies
# (413) and longer queries (400) before anything reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Database and cache -------------------------------------------------------------------------------------
# Embedded default: SQLite beside the code. Production: DATABASE_URL=postgres://...
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # views never hold a transaction open across a network call
# Persistent connections: opening one per request alone halved the pages' throughput. The health check re-opens
# a connection the server dropped (restart, failover) before the request uses it, instead of failing it.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=600))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("DJANGO_CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A transaction that reads and then writes (a one-time code's attempts) cannot upgrade its read lock while
    # another one writes: SQLite fails it at once with "database is locked". IMMEDIATE takes the write lock when
    # the transaction begins, so writers queue (up to `timeout` seconds) instead; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("DJANGO_CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Static and media files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded card art. On this origin a view serves it (raster images only, sandboxed); an absolute URL puts it on
# a separate cookieless origin that must send the same headers (docs/operations.md, "Serving media").
MEDIA_URL = env.str("DJANGO_MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Limits of an uploaded image (PNG, JPEG or WebP by content): its size in bytes and in pixels along either side.
PORTAL_IMAGE_UPLOAD_MAX_BYTES = env.int("PORTAL_IMAGE_UPLOAD_MAX_BYTES", default=2 * 1024 * 1024)
PORTAL_IMAGE_UPLOAD_MAX_SIDE_PIXELS = env.int("PORTAL_IMAGE_UPLOAD_MAX_SIDE_PIXELS", default=4096)
# Whitenoise answers before the middleware: nosniff, CORP and a sandboxing CSP for a static file opened directly.
WHITENOISE_ADD_HEADERS_FUNCTION = static_file_headers
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Authentication (allauth for cardholders and staff, axes for lockout) -------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must come first: refuses locked-out credentials
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False  # no "remember me": the idle timeout below always applies
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
# django-axes owns the password lockout (PCI DSS 8.3.4); allauth's own failed-login limit would stop counting
# earlier. This also turns off allauth's limit on second-factor codes, which lock as `users.lockout` says instead
# (a lock from the 10th failure, not a window from the first; audited; per address too).
ACCOUNT_RATE_LIMITS = {"login_failed": None}
PORTAL_SIGNUP_OPEN = env.bool("PORTAL_SIGNUP_OPEN", default=False)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("PORTAL_ISSUER_NAME", default="Push Provisioning Portal")
MFA_FORMS = {"authenticate": "users.forms.SignInCodeForm"}

AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "users.lockout.username_from_credentials"
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock lasts 30 minutes from the 10th failure
AXES_VERBOSE = False  # axes' own log lines would repeat what the audit trail records
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0) or None
# Wrong second-factor codes at sign-in: the account locks like a password lockout; one client address locks after
# more, for someone holding many accounts' passwords (`users.lockout`).
PORTAL_SECOND_FACTOR_LOCKOUT = {
    "per_account": AXES_FAILURE_LIMIT,
    "per_address": 30,
    "seconds": int(AXES_COOLOFF_TIME.total_seconds()),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sessions and cookies --------------------------------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("PORTAL_SESSION_IDLE_SECONDS", default=15 * 60)  # idle timeout, sliding
# Not every request: core.middleware.IdleSessionRenewalMiddleware writes the session when it changed or when the
# idle clock needs moving by more than a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
PORTAL_SESSION_ABSOLUTE_SECONDS = env.int("PORTAL_SESSION_ABSOLUTE_SECONDS", default=8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Lax, not Strict: the token requestor sends the cardholder back cross-site
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=True)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# The __Host- prefix pins a cookie to this exact origin (no Domain, Path=/, Secure); browsers require Secure.
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
# The language switch's choice for visitors without an account (a cardholder's is their preferred locale).
LANGUAGE_COOKIE_NAME = "__Host-language" if SECURE_COOKIES else "django_language"
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# --- Transport security and headers --------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus call the process itself over plain HTTP, not through the TLS proxy (they carry no secrets).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=63_072_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    # Only behind a proxy that strips and sets X-Forwarded-Proto itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *([] if MEDIA_URL.startswith("/") else [MEDIA_URL])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
        "report-uri": [env.str("PORTAL_CSP_REPORT_URI", default="/csp-report/")],
    }
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

# --- Card vault ------------------------------------------------------------------------------------------------
# Keys are "key-id:base64-of-32-bytes" pairs; new ciphertexts use the active key, old ones keep their key id.
CARD_VAULT_KEYS = env.list("CARD_VAULT_KEYS")
CARD_VAULT_ACTIVE_KEY_ID = env.str("CARD_VAULT_ACTIVE_KEY_ID")
CARD_VAULT_FINGERPRINT_KEY = env.str("CARD_VAULT_FINGERPRINT_KEY")

# --- E-mail -------------------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Push Provisioning Portal <no-reply@localhost>")

# --- Celery ------------------------------------------------------------------------------------------------------
# Embedded default: without a broker, tasks run in-process and `manage.py run_periodic_jobs` runs the schedule.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Portals sharing one broker need queues of their own (so do test runs sharing a Redis).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT - 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "expire-push-receipts": {
        "task": "provisioning.expire_push_receipts",
        "schedule": 60.0,  # every minute: cleanup only, expiry is enforced when a receipt is used
        "options": {"expires": 60},
    },
    "check-push-outcomes": {
        # the network's word on outcomes MDES could not confirm at the callback (backoff per receipt)
        "task": "provisioning.check_push_outcomes",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "refresh-card-tokens-due": {
        # where each card lives: cards whose tokens were last described longer ago than the refresh interval
        "task": "provisioning.refresh_card_tokens_due",
        "schedule": 600.0,
        "options": {"expires": 600},
    },
    "purge-api-idempotency-records": {
        # stored Idempotency-Key answers: bodies dropped once their receipts expire, records after 24 hours
        "task": "api.purge_idempotency_records",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "purge-expired-landing-access-tokens": {
        "task": "landing.purge_expired_access_tokens",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "send-token-alerts-due": {
        # "Was this you?" messages the task after the notification did not send (the broker or the backend failed)
        "task": "issuer_services.send_token_alerts_due",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "deliver-overdue-webhooks": {
        # webhook deliveries whose queued attempt never ran (the broker was down at the commit, a lost message)
        "task": "webhooks.deliver_due",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "refresh-token-requestors-if-due": {
        "task": "provisioning.refresh_token_requestors_if_due",
        # hourly check; the interval itself (default 14 days) is the staff's, in the network configuration
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
}

# --- REST framework (the API is `api`; see its README section) ---------------------------------------------------
REST_FRAMEWORK = {
    # Each view names its callers (api.views.base); these defaults are for anything that does not.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.CardholderTokenAuthentication",
        "api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.CredentialRateThrottle",
        "api.throttling.AnonymousAddressThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_credential": env.str("API_THROTTLE_PER_CREDENTIAL", default="300/min"),
        "api_anonymous": env.str("API_THROTTLE_ANONYMOUS", default="120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Push Provisioning Portal API",
    "DESCRIPTION": (
        "For the issuer's mobile app (a cardholder's token) and program managers (an API key). Errors are RFC 7807 "
        "problem details with a stable `code`; every POST honours an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PlatformEnum": "provisioning.models.DeviceEnvironment",
        "CardStateEnum": "cardholders.models.Card.State",
        "PushStateEnum": "provisioning.models.PushRequest.State",
        "ReceiptStateEnum": "provisioning.models.PushReceipt.State",
        "ReceiptResultEnum": "provisioning.models.PushReceipt.Result",
        "LandingLinkStatusEnum": "landing.models.LandingLink.Status",
    },
}
# Request bodies of the API: at most this many bytes (413 beyond), JSON nested at most this deep (400 beyond).
API_MAX_REQUEST_BYTES = 64 * 1024
API_MAX_JSON_DEPTH = 10
# Lifetime of an app token issued to a stepped-up session (knox stores only its hash).
API_CARDHOLDER_TOKEN_TTL_HOURS = env.int("API_CARDHOLDER_TOKEN_TTL_HOURS", default=12)
REST_KNOX = {"TOKEN_TTL": timedelta(hours=API_CARDHOLDER_TOKEN_TTL_HOURS), "AUTH_HEADER_PREFIX": "Token"}
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 - a model name (knox's default), which api.AppTokenGrant refers to
# Requests refused for a missing or wrong credential, per client address in 10 minutes (guessing keys or tokens).
API_REFUSED_PER_ADDRESS = env.int("API_REFUSED_PER_ADDRESS", default=30)
# Limits of the write endpoints, per credential AND per client address (check F1), besides the throttling above.
API_WRITE_RATE_LIMITS: dict[str, dict[str, int]] = {
    "push_start": {"per_credential": 10, "per_address": 30, "window_seconds": 600},
    "push_result": {"per_credential": 30, "per_address": 90, "window_seconds": 600},
    "token_create": {"per_credential": 5, "per_address": 30, "window_seconds": 600},
    "card_tokens_check": {"per_credential": 20, "per_address": 60, "window_seconds": 600},
    "card_token_change": {"per_credential": 20, "per_address": 60, "window_seconds": 600},
    "wallet_request_answer": {"per_credential": 20, "per_address": 60, "window_seconds": 600},
    "landing_link_create": {"per_credential": 200, "per_address": 400, "window_seconds": 3600},
    "landing_link_revoke": {"per_credential": 200, "per_address": 400, "window_seconds": 3600},
}

# --- Provisioning ---------------------------------------------------------------------------------------------
# The MDES client: seconds to connect and to read, retries of connections that never reached MDES, and how long
# the encrypted funding-account data stays valid (dataValidUntilTimestamp; Mastercard recommends 30 minutes).
MDES_CONNECT_TIMEOUT_SECONDS = env.float("MDES_CONNECT_TIMEOUT_SECONDS", default=3.05)
MDES_READ_TIMEOUT_SECONDS = env.float("MDES_READ_TIMEOUT_SECONDS", default=10.0)
MDES_CONNECT_RETRIES = env.int("MDES_CONNECT_RETRIES", default=2)
MDES_PAYLOAD_VALIDITY_MINUTES = env.int("MDES_PAYLOAD_VALIDITY_MINUTES", default=30)
# completeWebsiteActivation / completeIssuerAppActivation sent with every push: true (MDES's default) lets the wallet
# finish activation itself; false asks it to come back with REQUIRE_ADDITIONAL_AUTHENTICATION so that the issuer
# activates the token through the Customer Service API ("streamlined activation").
MDES_COMPLETE_WEBSITE_ACTIVATION = env.bool("MDES_COMPLETE_WEBSITE_ACTIVATION", default=True)
MDES_COMPLETE_ISSUER_APP_ACTIVATION = env.bool("MDES_COMPLETE_ISSUER_APP_ACTIVATION", default=True)
# The token requestors that are Mastercard Click to Pay (its own place on the cardholder's pages, review and consent
# before the push, always approved without more proof): 50123197928 is Click to Pay's TRID in MDES.
CLICK_TO_PAY_TOKEN_REQUESTOR_IDS = env.list("CLICK_TO_PAY_TOKEN_REQUESTOR_IDS", default=["50123197928"])
# Click to Pay's terms and privacy notice shown before the push: Mastercard's country listings unless a country
# has its own (COUNTRY=URL pairs, ISO 3166 alpha-2), and the countries where the consent box starts unticked
# (explicit opt-in; Mastercard's list for integrators, mdes-beyond-the-push.md section 1.3).
CLICK_TO_PAY_TERMS_URL = env.str(
    "CLICK_TO_PAY_TERMS_URL", default="https://www.mastercard.com/global/click-to-pay/country-listing/terms.html"
)
CLICK_TO_PAY_PRIVACY_URL = env.str(
    "CLICK_TO_PAY_PRIVACY_URL", default="https://www.mastercard.com/global/click-to-pay/country-listing/privacy.html"
)
CLICK_TO_PAY_TERMS_URLS: dict[str, str] = env.dict("CLICK_TO_PAY_TERMS_URLS", default={})
CLICK_TO_PAY_PRIVACY_URLS: dict[str, str] = env.dict("CLICK_TO_PAY_PRIVACY_URLS", default={})
CLICK_TO_PAY_EXPLICIT_OPT_IN_COUNTRIES = env.list(
    "CLICK_TO_PAY_EXPLICIT_OPT_IN_COUNTRIES", default=["CA", "NZ", "SG", "HK", "TH", "MY", "DE"]
)
# The only hosts the client may call, per environment of the network configuration (SSRF guard, ASVS 13.2.4).
MDES_ALLOWED_HOSTS: dict[str, list[str]] = {
    "production": env.list("MDES_ALLOWED_HOSTS_PRODUCTION", default=["api.mastercard.com"]),
    "mtf": env.list("MDES_ALLOWED_HOSTS_MTF", default=["api.mastercard.com", "sandbox.api.mastercard.com"]),
    "sandbox": env.list("MDES_ALLOWED_HOSTS_SANDBOX", default=["sandbox.api.mastercard.com"]),
}
# The local sandbox (loopback, plain HTTP) is reachable only in development and tests, never with DEBUG off.
MDES_ALLOW_LOCAL_SANDBOX = env.bool("MDES_ALLOW_LOCAL_SANDBOX", default=DEBUG)
# Where a self-service Customer Service call puts the cardholder reference: CommentText ([INFERRED] in
# mdes-beyond-the-push.md section 3) or UserName (next to the portal's service identity).
MDES_CS_CARDHOLDER_REFERENCE_IN = env.str("MDES_CS_CARDHOLDER_REFERENCE_IN", default="CommentText")
# First retry of a refresh MDES could not answer, in seconds; later retries back off exponentially with jitter.
PROVISIONING_REFRESH_RETRY_BACKOFF_SECONDS = env.int("PROVISIONING_REFRESH_RETRY_BACKOFF_SECONDS", default=30)
# The network's word on push outcomes (Customer Service API search after each callback).
PROVISIONING_NETWORK_CHECK_TIMEOUT_SECONDS = env.float("PROVISIONING_NETWORK_CHECK_TIMEOUT_SECONDS", default=3.0)
PROVISIONING_NETWORK_CHECK_ATTEMPTS = env.int("PROVISIONING_NETWORK_CHECK_ATTEMPTS", default=6)
PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS = env.int("PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS", default=30)
# How old the network's description of a card's tokens may grow before the background asks again (cards with a
# token or a returned push only); every push and the cardholder's "Check again" refresh it too.
PROVISIONING_TOKEN_REFRESH_INTERVAL_SECONDS = env.int("PROVISIONING_TOKEN_REFRESH_INTERVAL_SECONDS", default=6 * 3600)
# Whether a token requestor MDES lists for the first time is offered to cardholders before staff review it.
PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS = env.bool("PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS", default=False)

# --- MDES issuer services (MDES asks the portal: authorizeService, activation codes, notifications) -------------
# Off unless the issuer registered the portal's endpoint with Mastercard (the views then answer 404).
ISSUER_SERVICES_ENABLED = env.bool("ISSUER_SERVICES_ENABLED", default=False)
# How a call proves it comes from MDES; every mechanism listed must pass. "mtls": the TLS proxy verified MDES's
# client certificate and names it in a header; "signature": a detached JWS over the body (issuer_services/
# authentication.py). At least one.
ISSUER_SERVICES_AUTHENTICATION = env.list("ISSUER_SERVICES_AUTHENTICATION", default=["mtls", "signature"])
if not ISSUER_SERVICES_AUTHENTICATION or set(ISSUER_SERVICES_AUTHENTICATION) - {"mtls", "signature"}:
    raise ImproperlyConfigured("ISSUER_SERVICES_AUTHENTICATION must list mtls, signature or both")
# The network's signature keys: PEM files holding a public key or a certificate (several during a rotation).
ISSUER_SERVICES_SIGNATURE_KEY_PATHS = env.list("ISSUER_SERVICES_SIGNATURE_KEY_PATHS", default=[])
# A signature's iat may be this far from the portal's clock either way; its jti is remembered twice as long.
ISSUER_SERVICES_SIGNATURE_MAX_AGE_SECONDS = env.int("ISSUER_SERVICES_SIGNATURE_MAX_AGE_SECONDS", default=300)
# The header in which the TLS proxy names the client certificate it verified, the names accepted, and the proxies
# (peer addresses) whose header counts; only with DJANGO_TRUSTED_PROXY_COUNT above 0 (a proxy is deployed).
ISSUER_SERVICES_CLIENT_IDENTITY_HEADER = env.str(
    "ISSUER_SERVICES_CLIENT_IDENTITY_HEADER", default="X-Client-Certificate-Subject"
)
ISSUER_SERVICES_CLIENT_IDENTITIES = env.list("ISSUER_SERVICES_CLIENT_IDENTITIES", default=[])
ISSUER_SERVICES_TRUSTED_PROXIES = env.list(
    "ISSUER_SERVICES_TRUSTED_PROXIES", default=env.list("GUNICORN_FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
)
# The portal's own key for the funding-account data MDES encrypts to it: a PKCS#12 file and its password, or an
# unencrypted PEM private key (no password). Never in the repository.
ISSUER_SERVICES_DECRYPTION_KEY_PATH = env.str("ISSUER_SERVICES_DECRYPTION_KEY_PATH", default="")
ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD = env.str("ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD", default="")
# MDES gives authorizeService little time (no figure is published): slower answers are logged and counted.
ISSUER_SERVICES_RESPONSE_BUDGET_SECONDS = env.float("ISSUER_SERVICES_RESPONSE_BUDGET_SECONDS", default=2.0)
# How long a request awaiting the cardholder (REQUIRE_ADDITIONAL_AUTHENTICATION) stays pending.
ISSUER_SERVICES_PENDING_HOURS = env.int("ISSUER_SERVICES_PENDING_HOURS", default=24)
# Codes the portal makes (deliverActivationCode without a code; checked by validateActivationCode).
ISSUER_SERVICES_CODE_DIGITS = env.int("ISSUER_SERVICES_CODE_DIGITS", default=6)
ISSUER_SERVICES_CODE_MINUTES = env.int("ISSUER_SERVICES_CODE_MINUTES", default=15)
ISSUER_SERVICES_CODE_ATTEMPTS = env.int("ISSUER_SERVICES_CODE_ATTEMPTS", default=3)
# CARDHOLDER_TO_VISIT_WEBSITE: the cardholder's page of wallet requests (PORTAL_BASE_URL + this path; MDES allows
# 64 characters). CARDHOLDER_TO_USE_MOBILE_APP: what the wallet shows for the issuer's app; empty: no app offered.
ISSUER_SERVICES_APPROVAL_PATH = env.str("ISSUER_SERVICES_APPROVAL_PATH", default="/wallet-requests/")
ISSUER_SERVICES_MOBILE_APP = env.str("ISSUER_SERVICES_MOBILE_APP", default="")
# Bodies MDES sends are a few kilobytes; nothing bigger is read.
ISSUER_SERVICES_MAX_BODY_BYTES = 64 * 1024
# "Was this you?" (issuer_services/token_alerts.py): how long the suspend link in the message works.
ISSUER_SERVICES_ALERT_LINK_DAYS = env.int("ISSUER_SERVICES_ALERT_LINK_DAYS", default=7)

# --- Webhooks to the issuer's app backend (the `webhooks` app; docs/operations.md, "Webhooks") ----------------------
# Off without a URL. The HMAC secret comes from WEBHOOKS_SECRET or from the file WEBHOOKS_SECRET_FILE names (a
# mounted secret); never from the repository. https only, except an endpoint on this machine (the demo, tests).
WEBHOOKS_URL = env.str("WEBHOOKS_URL", default="")
WEBHOOKS_SECRET = env.str("WEBHOOKS_SECRET", default="")
if env.str("WEBHOOKS_SECRET_FILE", default=""):
    WEBHOOKS_SECRET = Path(env.str("WEBHOOKS_SECRET_FILE")).read_text(encoding="utf-8").strip()
if WEBHOOKS_URL and len(WEBHOOKS_SECRET) < 32:
    raise ImproperlyConfigured("WEBHOOKS_URL needs WEBHOOKS_SECRET or WEBHOOKS_SECRET_FILE (32 characters or more)")
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3.05)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=10.0)
# Attempts in all (the first included); retries wait BACKOFF seconds, doubling up to BACKOFF_MAX, with jitter. The
# cap stays below CELERY_VISIBILITY_TIMEOUT, after which Redis would hand a waiting retry to a second worker.
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=8)
WEBHOOKS_BACKOFF_SECONDS = env.float("WEBHOOKS_BACKOFF_SECONDS", default=30.0)
WEBHOOKS_BACKOFF_MAX_SECONDS = env.float("WEBHOOKS_BACKOFF_MAX_SECONDS", default=1800.0)

# --- Messages to people (one-time codes) and step-up ---------------------------------------------------------
PORTAL_MESSAGE_BACKEND = env.str("PORTAL_MESSAGE_BACKEND", default="core.messaging.EmailBackend")
PORTAL_SANDBOX_INBOX_URL = env.str("PORTAL_SANDBOX_INBOX_URL", default="http://127.0.0.1:8001/inbox/messages")
# How recent the cardholder's second factor must be for a push (the push itself asks for nothing more).
PORTAL_STEP_UP_MAX_AGE_SECONDS = env.int("PORTAL_STEP_UP_MAX_AGE_SECONDS", default=300)

# --- Landing links (gift, expense and emergency cards) ---------------------------------------------------------
# The portal's public address, for links sent by SMS or e-mail (no request to take it from then).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
LANDING_LINK_DEFAULT_DAYS = env.int("LANDING_LINK_DEFAULT_DAYS", default=30)
LANDING_LINK_MAX_DAYS = env.int("LANDING_LINK_MAX_DAYS", default=90)
LANDING_LINK_MAX_PUSHES = env.int("LANDING_LINK_MAX_PUSHES", default=5)

# --- Portal ------------------------------------------------------------------------------------------------------
PORTAL_ISSUER_NAME = env.str("PORTAL_ISSUER_NAME", default="Push Provisioning Portal")
PORTAL_ENVIRONMENT_LABEL = env.str("PORTAL_ENVIRONMENT_LABEL", default="")
# Branding: a colour from the stylesheet's palette (each checked for WCAG AA contrast; a free hex value could
# fail it, and CSP forbids inline styles) and a logo, a path under static/ or empty for the name alone.
PORTAL_BRAND_COLOUR = env.str("PORTAL_BRAND_COLOUR", default="blue")
if PORTAL_BRAND_COLOUR not in dict(BRAND_COLOURS):
    raise ImproperlyConfigured(f"PORTAL_BRAND_COLOUR must be one of {', '.join(dict(BRAND_COLOURS))}")
PORTAL_ISSUER_LOGO = env.str("PORTAL_ISSUER_LOGO", default="img/issuer-logo.svg")

# --- Observability: traces (OpenTelemetry) and error reports (Sentry) -------------------------------------------
# Traces are exported over OTLP/HTTP only when an endpoint is set (the exporter also reads OTEL_EXPORTER_OTLP_*).
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="push-provisioning-portal")
# Error reports go to Sentry only with a DSN, scrubbed of card numbers, receipts, codes and tokens.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.error_reports import error_reports_configure

    error_reports_configure(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Logging -------------------------------------------------------------------------------------------------------
# One JSON object a line (so a value cannot forge a second line), card numbers masked by a filter on the handler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_card_numbers": {"()": "core.logging.MaskCardNumbersFilter"}},
    "formatters": {
        "json": {
            "()": "core.logging.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "json_ensure_ascii": False,
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["mask_card_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("PORTAL_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # sign-in failures and lockouts are in the audit trail instead
        # runserver's access log: through the masking filter like everything else
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
