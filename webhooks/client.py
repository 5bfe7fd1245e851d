"""The outbound HTTP client for webhooks: one signed POST, and what came of it (never an exception).

Signature (docs/operations.md, "Webhooks"): `X-Portal-Signature-SHA256: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>" under the shared secret>`, made afresh for every attempt so that receivers can refuse old ones.
Connect and read timeouts on every call, TLS verified, redirects never followed, no proxy or .netrc from the
environment, and the answer's body is not read: only its status counts.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings

SIGNATURE_HEADER = "X-Portal-Signature-SHA256"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookConfigurationError(Exception):
    pass


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class WebhookAnswer:
    """An attempt's result: the HTTP status (None when none came) and a short error for the log."""

    status: int | None
    duration_ms: int
    error: str = ""
    retry_after_seconds: float | None = None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class WebhookClient:
    def __init__(self, *, url: str, secret: str, timeout: tuple[float, float]) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
            raise WebhookConfigurationError("WEBHOOKS_URL must be https (plain http only on this machine)")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    @classmethod
    def from_settings(cls) -> "WebhookClient":
        if not settings.WEBHOOKS_URL:
            raise WebhookConfigurationError("Webhooks are off: WEBHOOKS_URL is not set")
        return cls(
            url=settings.WEBHOOKS_URL,
            secret=settings.WEBHOOKS_SECRET,
            timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOKS_READ_TIMEOUT_SECONDS),
        )

    def post(self, *, delivery_id: str, event_id: str, event_type: str, body: bytes) -> WebhookAnswer:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "push-provisioning-portal-webhooks/1",
            "X-Delivery-Id": delivery_id,
            "X-Event-Id": event_id,
            "X-Event-Type": event_type,
            SIGNATURE_HEADER: webhook_signature(secret=self.secret, timestamp=int(time.time()), body=body),
        }
        started = time.monotonic()
        try:
            response = self.session.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except requests.Timeout:
            return WebhookAnswer(None, _since(started), "timeout")
        except requests.RequestException as exc:
            return WebhookAnswer(None, _since(started), f"connection failed ({type(exc).__name__})")
        response.close()
        error = "" if 200 <= response.status_code < 300 else f"answered HTTP {response.status_code}"
        return WebhookAnswer(response.status_code, _since(started), error, _retry_after(response))


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
