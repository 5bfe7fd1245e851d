"""Who is calling: a cardholder (browser session or app token) or a program manager (API key).

- Browser: Django's session, with CSRF enforced on every unsafe method (check E1).
- Cardholder app: a django-rest-knox token (`Authorization: Token <token>`), stored hashed, expiring, issued to
  a signed-in session that has just passed step-up.
- Program manager: a `ProgramApiKey` (`Authorization: Api-Key <key>`), stored hashed; `request.user` stays
  anonymous and `request.auth` is the key, whose program scopes everything it sees.

`credential_id` names the credential of a request for throttling and rate limits; `idempotency_scope` the owner
of its Idempotency-Key records.
"""

import hashlib
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ProgramApiKey
from api.problems import Problem

API_KEY_KEYWORD = "Api-Key"  # pragma: allowlist secret


class CardholderTokenAuthentication(TokenAuthentication):
    """Knox's token authentication; a separate class so the schema and the views name it as the API's."""


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session. DRF already enforces CSRF for it; the failure is answered with its own code."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            raise Problem(
                status_code=403,
                code="csrf_failed",
                title=gettext("CSRF check failed"),
                detail=gettext("Send the CSRF token with requests that use the browser session."),
            ) from exc


class ProgramApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>`: a usable (not revoked, not expired) program manager key."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ProgramApiKey] | None:
        keyword, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if keyword.lower() != API_KEY_KEYWORD.lower():
            return None  # not this scheme: another authenticator may recognise the request
        try:
            api_key = cast(ProgramApiKey, ProgramApiKey.objects.get_from_key(key.strip()))
        except ProgramApiKey.DoesNotExist:
            api_key = None
        if api_key is None or api_key.has_expired:
            raise exceptions.AuthenticationFailed(gettext("Invalid, revoked or expired API key."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return API_KEY_KEYWORD


def idempotency_scope(request: Request) -> str | None:
    """Whose Idempotency-Keys these are: the credential, except that a browser session is its own scope (its key
    changes with every step-up), so no other session of the user can replay what this one was answered."""
    if isinstance(request.successful_authenticator, CsrfSessionAuthentication) and request.session.session_key:
        digest = hashlib.sha256(request.session.session_key.encode()).hexdigest()[:32]
        return f"session:{digest}"
    return credential_id(request)


def credential_id(request: Request) -> str | None:
    """A stable, non-secret name of the request's credential, or None for an anonymous request."""
    auth: Any = request.auth
    if isinstance(auth, AuthToken):
        return f"knox:{auth.digest[:32]}"
    if isinstance(auth, ProgramApiKey):
        return f"apikey:{auth.prefix}"
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None
