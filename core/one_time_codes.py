"""One-time codes sent by SMS or e-mail to prove possession: a cardholder's step-up, a landing link's recipient.

8 digits from `secrets` (26 bits), valid 5 minutes, single use, 5 attempts, at most 3 sent in 10 minutes. Only a
keyed hash is stored, bound to its scope (the user, the link), so a code is worth nothing anywhere else. The models
holding them (`users.StepUpCode`, `landing.LandingCode`) are `OneTimeCode`s with a key to what they are for; the
callers audit under their own names and raise their own errors from the `CodeProblem` they get.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from core.messaging import Message, MessageNotSentError, message_backend, message_send
from core.metrics import ONE_TIME_CODE_CHECKS, ONE_TIME_CODES
from core.personal_data import mask_email

CODE_DIGITS = 8
CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_SENDS = 3
SEND_WINDOW = timedelta(minutes=10)


class OneTimeCodeChannel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "E-mail"


class OneTimeCode(models.Model):
    """A code sent once; concrete models add what it is for (a user, a link) and their own index."""

    channel = models.CharField(max_length=8, choices=OneTimeCodeChannel.choices)
    sent_to_hint = models.CharField(max_length=64, help_text="Where it went, masked.")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")


@dataclass(frozen=True)
class CodeChannel:
    """Where a code can go: `kind` an OneTimeCodeChannel, `address` the number or mailbox, `hint` it masked."""

    kind: str
    address: str = field(repr=False)
    hint: str


def code_channels_on_file(*, phone: str, email: str) -> list[CodeChannel]:
    """Where a code can go: the phone number and e-mail address on file (either may be empty), as far as the
    message backend reaches."""
    available = message_backend().channels
    channels = []
    if phone and OneTimeCodeChannel.SMS in available:
        hint = gettext("your phone ending %(last_four)s") % {"last_four": phone[-4:]}
        channels.append(CodeChannel(OneTimeCodeChannel.SMS, phone, hint))
    if email and OneTimeCodeChannel.EMAIL in available:
        channels.append(CodeChannel(OneTimeCodeChannel.EMAIL, email, mask_email(email)))
    return channels


class CodeProblem(StrEnum):
    NO_CHANNEL = "no_channel"
    TOO_MANY_SENDS = "too_many_codes"
    NOT_SENT = "not_sent"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    WRONG = "wrong"

    @property
    def limited(self) -> bool:
        """A limit was reached (as opposed to a mistake): the caller answers 429 or its equivalent."""
        return self in (CodeProblem.TOO_MANY_SENDS, CodeProblem.TOO_MANY_ATTEMPTS)

    @property
    def message(self) -> str:
        """What to tell the person, in the language of the request."""
        messages = {
            CodeProblem.NO_CHANNEL: gettext("That way of receiving a code is not available."),
            CodeProblem.TOO_MANY_SENDS: gettext(
                "We already sent several codes. Please wait a few minutes before asking for another."
            ),
            CodeProblem.NOT_SENT: gettext(
                "We could not send the code just now. Please try again or choose another way."
            ),
            CodeProblem.EXPIRED: gettext("That code has expired. Ask for a new one."),
            CodeProblem.TOO_MANY_ATTEMPTS: gettext("Too many wrong codes. Ask for a new one."),
            CodeProblem.WRONG: gettext("That code is not right. Check it and try again."),
        }
        return messages[self]


class CodeNotSentError(Exception):
    """No code went out; `problem` says why, `detail` (for the record) what the message backend said."""

    def __init__(self, problem: CodeProblem, detail: str = "") -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class NewCode:
    code: str = field(repr=False)  # goes into the message, never into a record or a log
    code_hash: str
    expires_at: datetime


def _hash(code: str, scope: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{scope}:{code}".encode(), hashlib.sha256).hexdigest()


def one_time_code_send(
    *, codes: Any, scope: str, channels: list[CodeChannel], channel_kind: str, subject: str
) -> CodeChannel:
    """Send a new code by `channel_kind` (one of `channels`) and keep its hash in `codes`, a related manager of the
    thing it is for (`user.step_up_codes`, `link.codes`). Raises CodeNotSentError: unknown channel, too many sent
    lately, or the message backend failed (the code is then kept: it counts against the sends, as it may arrive)."""
    try:
        channel = _code_send(codes=codes, scope=scope, channels=channels, channel_kind=channel_kind, subject=subject)
    except CodeNotSentError as error:
        ONE_TIME_CODES.labels(outcome=f"refused_{error.problem}").inc()
        raise
    ONE_TIME_CODES.labels(outcome="sent").inc()
    return channel


def _code_send(*, codes: Any, scope: str, channels: list[CodeChannel], channel_kind: str, subject: str) -> CodeChannel:
    channel = next((c for c in channels if c.kind == channel_kind), None)
    if channel is None:
        raise CodeNotSentError(CodeProblem.NO_CHANNEL)
    if one_time_code_sends_exhausted(codes.all()):
        raise CodeNotSentError(CodeProblem.TOO_MANY_SENDS)
    new = one_time_code_new(scope=scope)
    codes.create(channel=channel.kind, sent_to_hint=channel.hint, code_hash=new.code_hash, expires_at=new.expires_at)
    try:
        message_send(
            Message(channel=channel.kind, to=channel.address, subject=subject, body=one_time_code_body(new.code))
        )
    except MessageNotSentError as exc:
        raise CodeNotSentError(CodeProblem.NOT_SENT, str(exc)) from exc
    return channel


def one_time_code_new(*, scope: str) -> NewCode:
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    return NewCode(code=code, code_hash=_hash(code, scope), expires_at=timezone.now() + CODE_LIFETIME)


def one_time_code_sends_exhausted(codes: "QuerySet[Any]") -> bool:
    """Whether `codes` (one scope's) already hold as many sends as the window allows."""
    return codes.filter(created_at__gte=timezone.now() - SEND_WINDOW).count() >= MAX_SENDS


def one_time_code_send_wait_seconds(codes: "QuerySet[Any]") -> int:
    """Seconds until `codes` (one scope's) may be sent another (0: now): when enough sends have left the window."""
    window_start = timezone.now() - SEND_WINDOW
    recent = list(
        codes.filter(created_at__gte=window_start).order_by("-created_at").values_list("created_at", flat=True)
    )
    if len(recent) < MAX_SENDS:
        return 0
    return max(1, math.ceil((recent[MAX_SENDS - 1] - window_start).total_seconds()))


def one_time_code_body(code: str) -> str:
    return gettext("Your code is %(code)s. It expires in 5 minutes. Never share it: we will never ask you for it.") % {
        "code": code
    }


def one_time_code_verify(codes: "QuerySet[Any]", code: str, *, scope: str) -> CodeProblem | None:
    """Check `code` against the latest unexpired, unused one of `codes` (one scope's); None if right (it is then
    used up). Every try counts against the code's attempts, under a row lock, so parallel guesses count too."""
    problem = _code_check(codes, code, scope=scope)
    ONE_TIME_CODE_CHECKS.labels(outcome=problem.value if problem else "accepted").inc()
    return problem


def _code_check(codes: "QuerySet[Any]", code: str, *, scope: str) -> CodeProblem | None:
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
