"""Sign-in events from Django, allauth and axes, recorded in the audit trail (PCI DSS 10.2.1)."""

import time
from typing import Any

from allauth.mfa.signals import authentication_failed, authenticator_added, authenticator_removed, authenticator_reset
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.middleware import SESSION_AUTHENTICATED_AT_KEY
from users.lockout import username_from_credentials


@receiver(user_logged_in)
def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTHENTICATED_AT_KEY] = time.time()
    audit_event_record(action="auth.signed_in", actor=user, target=user, request=request)


@receiver(user_logged_out)
def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_event_record(action="auth.signed_out", actor=user, target=user, request=request)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any) -> None:
    attempted = username_from_credentials(request, credentials) if request is not None else ""
    audit_event_record(
        action="auth.sign_in_failed",
        actor_label=attempted or "unknown",
        outcome=AuditEvent.Outcome.FAILURE,
        request=request,
    )


@receiver(user_locked_out)
def on_locked_out(sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    audit_event_record(
        action="auth.locked_out",
        actor_label=username or "unknown",
        outcome=AuditEvent.Outcome.FAILURE,
        detail="Too many failed sign-in attempts; the account is locked for this address.",
        request=request,
    )


@receiver(authenticator_added)
def on_authenticator_added(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any) -> None:
    audit_event_record(
        action="auth.second_factor_added", actor=user, target=user, after={"type": authenticator.type}, request=request
    )


@receiver(authenticator_removed)
def on_authenticator_removed(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any) -> None:
    audit_event_record(
        action="auth.second_factor_removed",
        actor=user,
        target=user,
        before={"type": authenticator.type},
        request=request,
    )


@receiver(authenticator_reset)
def on_authenticator_reset(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any) -> None:
    audit_event_record(
        action="auth.second_factor_reset", actor=user, target=user, after={"type": authenticator.type}, request=request
    )


@receiver(authentication_failed)
def on_second_factor_failed(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any) -> None:
    audit_event_record(
        action="auth.second_factor_failed",
        actor_label=str(user),
        target=user,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"type": authenticator.type},
        request=request,
    )
