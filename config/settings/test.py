"""Test overrides only. Keys are made afresh for every run; DATABASE_URL/REDIS_URL still choose the services."""

import base64
import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("CARD_VAULT_KEYS", f"test-1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
os.environ.setdefault("CARD_VAULT_ACTIVE_KEY_ID", "test-1")
os.environ.setdefault("CARD_VAULT_FINGERPRINT_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, DATABASES, REDIS_URL

MDES_ALLOW_LOCAL_SANDBOX = True  # the tests' MDES is the sandbox on loopback
CLICK_TO_PAY_TOKEN_REQUESTOR_IDS = ["50123197928", "50100000033"]  # the sandbox's simulated Click to Pay
PORTAL_MESSAGE_BACKEND = "core.messaging.EmailBackend"  # into mail.outbox
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production uses PBKDF2
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if REDIS_URL:
    # Every run gets its own key space on the shared Redis.
    CACHES["default"]["KEY_PREFIX"] = f"portal-test-{secrets.token_hex(4)}"

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not shared memory: the browser tests' threaded live server then gets a connection per thread,
    # as PostgreSQL gives it, instead of threads interleaving transactions on one in-memory connection.
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": f"{tempfile.gettempdir()}/portal-test-{os.getpid()}.sqlite3"}
