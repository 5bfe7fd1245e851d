"""Sign-in lockout (PCI DSS 8.3.4): passwords are django-axes' (it names the account below), second-factor codes
are this module's, as neither axes (it sees passwords only) nor allauth (its limit is off, see the settings)
counts them.

A wrong code at sign-in counts for the account and for the client address (`core.client_ip`, so a forged
X-Forwarded-For changes nothing). Reaching either limit locks it for the lockout time from that moment, against
the right code too, with one audit event. A right code starts the account's count again; staff can unlock an
account earlier (`second_factor_unlock`).
"""

import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.client_ip import client_ip
from core.rate_limits import counter_hit
from users.models import User


def username_from_credentials(request: HttpRequest, credentials: dict[str, Any]) -> str:
    """How django-axes names the account behind a password attempt (allauth signs in by e-mail)."""
    value = credentials.get("email") or credentials.get("username") or request.POST.get("login") or ""
    return str(value).strip().lower()


@dataclass(frozen=True)
class SecondFactorLockout:
    scope: str  # "account" or "address"
    until: float  # a POSIX time

    @property
    def seconds_left(self) -> int:
        return max(0, math.ceil(self.until - time.time()))


def _account_key(user: User) -> str:
    return f"second-factor-lock:account:{user.pk}"


def _address_key(request: HttpRequest) -> str:
    return f"second-factor-lock:address:{client_ip(request) or 'unknown'}"


def _keys(request: HttpRequest, user: User) -> dict[str, str]:
    return {"account": _account_key(user), "address": _address_key(request)}


def second_factor_lockout(request: HttpRequest, user: User) -> SecondFactorLockout | None:
    """The lock that keeps this account, or this client address, from signing in with a code (the one that
    lasts longer); None if neither is locked."""
    keys = _keys(request, user)
    untils = cache.get_many([f"{key}:until" for key in keys.values()])
    now = time.time()
    # The stored end decides, not the cache entry's expiry, so a lock ends exactly on time.
    locks = [
        SecondFactorLockout(scope, untils[f"{key}:until"])
        for scope, key in keys.items()
        if untils.get(f"{key}:until", 0) > now
    ]
    return max(locks, key=lambda lock: (lock.until, lock.scope == "account"), default=None)


def second_factor_failure_record(request: HttpRequest, user: User) -> None:
    """Count a wrong code at sign-in; the failure that reaches a limit locks the account or the address."""
    config = settings.PORTAL_SECOND_FACTOR_LOCKOUT
    seconds = config["seconds"]
    limits = {"account": config["per_account"], "address": config["per_address"]}
    for scope, key in _keys(request, user).items():
        # `==`: of concurrent failures, exactly one reaches the limit, so one lockout is one audit event.
        if counter_hit(f"{key}:failures", seconds) != limits[scope]:
            continue
        cache.set(f"{key}:until", time.time() + seconds, timeout=seconds)
        cache.delete(f"{key}:failures")  # once the lock ends, the count starts afresh
        audit_event_record(
            action="auth.second_factor_locked_out",
            actor_label=str(user),
            target=user,
            outcome=AuditEvent.Outcome.FAILURE,
            after={"locked": scope},
            detail=f"{limits[scope]} wrong second-factor codes; the {scope} is locked for {seconds // 60} minutes.",
            request=request,
        )


def second_factor_success_record(request: HttpRequest, user: User) -> None:
    """A right code starts the account's count again. The address keeps its count: one account's success must not
    wipe out what failures for other accounts from there added up."""
    cache.delete(f"{_account_key(user)}:failures")


def second_factor_refusal_record(request: HttpRequest, user: User, lockout: SecondFactorLockout) -> None:
    audit_event_record(
        action="auth.second_factor_refused",
        actor_label=str(user),
        target=user,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"locked": lockout.scope, "seconds_left": lockout.seconds_left},
        request=request,
    )


def second_factor_unlock(*, request: HttpRequest, user: User) -> bool:
    """Staff lift the account's second-factor lock (and its count) before it ends; True if it was locked."""
    key = _account_key(user)
    was_locked = float(cache.get(f"{key}:until", 0)) > time.time()
    cache.delete_many([f"{key}:until", f"{key}:failures"])
    audit_event_record(
        action="auth.second_factor_unlocked",
        actor=request.user,
        target=user,
        before={"locked": was_locked},
        request=request,
    )
    return was_locked
