"""One-time codes sent by SMS or e-mail to prove possession: a cardholder's step-up, a landing link's recipient.

8 digits from `secrets` (26 bits), valid 5 minutes, single use, 5 attempts, at most 3 sent in 10 minutes. Only a
keyed hash is stored, bound to its scope (the user, the link), so a code is worth nothing anywhere else. The
models holding them (`users.StepUpCode`, `landing.LandingCode`) share the fields `code_hash`, `created_at`,
`expires_at`, `attempts` and `used_at`.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

CODE_DIGITS = 8
CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_SENDS = 3
SEND_WINDOW = timedelta(minutes=10)


class CodeProblem(StrEnum):
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    WRONG = "wrong"

    @property
    def message(self) -> str:
        """What to tell the person, in the language of the request."""
        if self is CodeProblem.EXPIRED:
            return gettext("That code has expired. Ask for a new one.")
        if self is CodeProblem.TOO_MANY_ATTEMPTS:
            return gettext("Too many wrong codes. Ask for a new one.")
        return gettext("That code is not right. Check it and try again.")


@dataclass(frozen=True)
class NewCode:
    code: str = field(repr=False)  # goes into the message, never into a record or a log
    code_hash: str
    expires_at: datetime


def _hash(code: str, scope: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{scope}:{code}".encode(), hashlib.sha256).hexdigest()


def one_time_code_new(*, scope: str) -> NewCode:
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    return NewCode(code=code, code_hash=_hash(code, scope), expires_at=timezone.now() + CODE_LIFETIME)


def one_time_code_sends_exhausted(codes: "QuerySet[Any]") -> bool:
    """Whether `codes` (one scope's) already hold as many sends as the window allows."""
    return codes.filter(created_at__gte=timezone.now() - SEND_WINDOW).count() >= MAX_SENDS


def one_time_code_body(code: str) -> str:
    return gettext("Your code is %(code)s. It expires in 5 minutes. Never share it: we will never ask you for it.") % {
        "code": code
    }


def one_time_code_check(codes: "QuerySet[Any]", code: str, *, scope: str) -> CodeProblem | None:
    """Check `code` against the latest unexpired, unused one of `codes` (one scope's); None if right (it is then
    used up). Every try counts against the code's attempts, under a row lock, so parallel guesses count too."""
    code = code.strip().replace(" ", "")
    with transaction.atomic():
        latest = (
            codes.select_for_update()
            .filter(used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at", "-id")
            .first()
        )
        if latest is None:
            return CodeProblem.EXPIRED
        if latest.attempts >= MAX_ATTEMPTS:
            return CodeProblem.TOO_MANY_ATTEMPTS
        latest.attempts += 1
        if not hmac.compare_digest(latest.code_hash, _hash(code, scope)):
            latest.save(update_fields=["attempts"])
            return CodeProblem.WRONG
        latest.used_at = timezone.now()
        latest.save(update_fields=["attempts", "used_at"])
    return None
