"""DRF throttling of every API request: per credential, and per client address for anonymous requests.

The write endpoints also have their own, tighter limits per credential AND per client address (check F1),
counted with `core.rate_limits` (cache counters, Redis in production): `write_rate_limit_check`.
Rates are read at request time (not at import, as DRF's SimpleRateThrottle does), so a settings change applies.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import credential_id
from api.problems import Problem
from audit.models import AuditEvent
from audit.services import audit_event_record
from core.client_ip import client_ip
from core.metrics import API_THROTTLED
from core.rate_limits import rate_limit_allows_address, rate_limit_allows_for

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES) while it is defined
    from rest_framework.views import APIView


class _RuntimeRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]  # stubs: dict
        return rates[str(self.scope)]

    def throttle_failure(self) -> bool:
        API_THROTTLED.labels(scope=str(self.scope)).inc()
        return super().throttle_failure()


class CredentialRateThrottle(_RuntimeRateThrottle):
    """All requests of one credential (a knox token, an API key, a browser session's user)."""

    scope = "api_credential"

    def get_cache_key(self, request: Request, view: "APIView") -> str | None:
        credential = credential_id(request)
        return None if credential is None else self.cache_format % {"scope": self.scope, "ident": credential}


class AnonymousAddressThrottle(_RuntimeRateThrottle):
    """Requests without a credential (logos, the schema), per client address (check F3)."""

    scope = "api_anonymous"

    def get_cache_key(self, request: Request, view: "APIView") -> str | None:
        if credential_id(request) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


def write_rate_limit_check(request: Request, action: str) -> None:
    """Count one write `action` for this credential and this client address; 429 once either is over its limit.

    Limits are in settings.API_WRITE_RATE_LIMITS: {action: {per_credential, per_address, window_seconds}}.
    """
    limit = settings.API_WRITE_RATE_LIMITS[action]
    credential = credential_id(request) or "anonymous"
    allowed = rate_limit_allows_for(
        request,
        f"api-{action}",
        subject=credential,
        per_subject=limit["per_credential"],
        per_address=limit["per_address"],
        window_seconds=limit["window_seconds"],
    )
    if allowed:
        return
    audit_event_record(
        action="api.rate_limited",
        actor=request.user,
        actor_label=credential,
        outcome=AuditEvent.Outcome.FAILURE,
        detail=action,
        request=request,
    )
    raise Problem(
        status_code=429,
        code="rate_limited",
        title=gettext("Too many requests"),
        detail=gettext("This credential or address made many such requests in a short time. Try again later."),
        headers={"Retry-After": str(limit["window_seconds"])},
    )


REFUSED_WINDOW_SECONDS = 600


def refused_credential_check(request: Request) -> None:
    """Count a request refused for a missing or wrong credential against its address; 429 once over the limit.

    DRF throttles only after authentication and permissions pass, so without this, guessing keys or tokens would
    never be slowed down.
    """
    allowed = rate_limit_allows_address(
        request,
        "api-refused-credential",
        per_address=settings.API_REFUSED_PER_ADDRESS,
        window_seconds=REFUSED_WINDOW_SECONDS,
    )
    if allowed:
        return
    audit_event_record(
        action="api.rate_limited",
        outcome=AuditEvent.Outcome.FAILURE,
        detail="refused credentials",
        request=request,
    )
    raise Problem(
        status_code=429,
        code="rate_limited",
        title=gettext("Too many requests"),
        detail=gettext("Many requests from this address were refused for their credentials. Try again later."),
        headers={"Retry-After": str(REFUSED_WINDOW_SECONDS)},
    )
