"""Step-up: a fresh second factor before a push (TOTP the cardholder enrolled, or a code by SMS or e-mail).

The proof lives in the session for PORTAL_STEP_UP_MAX_AGE_SECONDS and is bound to that session (passing it renews
the session key, so it cannot be carried into another) and to the user who passed it; within that time it covers
the cardholder's next pushes of their own cards, so adding card A, then B, then A again costs one code, not three.
Codes are `core.one_time_codes`, scoped to the user. Every send, success and failure is audited.
"""

import enum
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.one_time_codes import (
    CodeChannel,
    CodeNotSentError,
    CodeProblem,
    code_channels_on_file,
    one_time_code_send,
    one_time_code_send_wait_seconds,
    one_time_code_verify,
)
from core.rate_limits import wait_text
from users.models import StepUpCode, User

SESSION_KEY = "portal_step_up_at"
SESSION_USER_KEY = "portal_step_up_user"
# What the flow asking for a proof is about ("Everyday Debit •••• 4444"), for the code page to say.
SESSION_FOR_KEY = "portal_step_up_for"
# What the person is doing, for the code page's wording (StepUpPurpose).
SESSION_PURPOSE_KEY = "portal_step_up_purpose"


class StepUpPurpose(enum.StrEnum):
    PUSH = "push"  # adding cards to a wallet or merchant
    PAUSE = "pause"  # pausing, resuming or removing a card where it lives
    RESUME = "resume"
    REMOVE = "remove"
    APPROVE = "approve"  # approving or declining a wallet request
    DECLINE = "decline"
    PROFILE = "profile"  # changing the contact details on file


class StepUpError(Exception):
    """Something the cardholder should be told (`str(error)` is written for them)."""


class StepUpLimitError(StepUpError):
    """Too many sends or attempts in a short time."""


def step_up_is_fresh(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return (
        at is not None
        and request.session.get(SESSION_USER_KEY) == request.user.pk
        and time.time() - float(at) <= settings.PORTAL_STEP_UP_MAX_AGE_SECONDS
    )


def step_up_first(
    request: HttpRequest, *, come_back_to: str, about: list[str], purpose: StepUpPurpose = StepUpPurpose.PUSH
) -> HttpResponseRedirect:
    """To the code page, and back to `come_back_to` once passed. That page's address holds what the person asked
    for (the cards, the change), so nothing they chose is lost on the way; `about` says it on the code page."""
    request.session[SESSION_FOR_KEY] = about
    request.session[SESSION_PURPOSE_KEY] = str(purpose)
    return HttpResponseRedirect(f"{reverse('step_up')}?{urlencode({'next': come_back_to})}")


def step_up_passed_at(request: HttpRequest) -> datetime | None:
    """When the session's fresh proof was passed, else None (an app token minted after it carries it on)."""
    if not step_up_is_fresh(request):
        return None
    return datetime.fromtimestamp(float(request.session[SESSION_KEY]), tz=UTC)


def step_up_seconds_left(request: HttpRequest) -> int:
    """How long the session's proof still covers pushes (0 without a fresh one)."""
    if not step_up_is_fresh(request):
        return 0
    return max(0, int(float(request.session[SESSION_KEY]) + settings.PORTAL_STEP_UP_MAX_AGE_SECONDS - time.time()))


def code_send_wait_seconds(user: User) -> int:
    """Seconds until another code may be sent to this user (0: now)."""
    return one_time_code_send_wait_seconds(user.step_up_codes.all())


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def code_channels(user: User) -> list[CodeChannel]:
    """Where a code can be sent: the phone and e-mail on file, if the message backend can reach them."""
    cardholder = getattr(user, "cardholder", None)
    return code_channels_on_file(phone=cardholder.phone_number if cardholder else "", email=user.email)


def _scope(user: User) -> str:
    return f"step-up:{user.pk}"


def step_up_code_send(*, request: HttpRequest, user: User, channel_kind: str) -> CodeChannel:
    try:
        channel = one_time_code_send(
            codes=user.step_up_codes,
            scope=_scope(user),
            channels=code_channels(user),
            channel_kind=channel_kind,
            subject=gettext("Your %(issuer)s code") % {"issuer": settings.PORTAL_ISSUER_NAME},
        )
    except CodeNotSentError as exc:
        if exc.problem is CodeProblem.NOT_SENT:
            audit_event_record(
                action="step_up.code_not_sent",
                actor=user,
                outcome=AuditEvent.Outcome.FAILURE,
                detail=exc.detail,
                request=request,
            )
        if exc.problem is CodeProblem.TOO_MANY_SENDS:
            wait = wait_text(code_send_wait_seconds(user))
            raise StepUpLimitError(
                gettext("We already sent you several codes. You can ask for a new one in %(wait)s.") % {"wait": wait}
            ) from exc
        raise (StepUpLimitError if exc.problem.limited else StepUpError)(exc.problem.message) from exc
    audit_event_record(action="step_up.code_sent", actor=user, after={"channel": channel.kind}, request=request)
    return channel


def _passed(request: HttpRequest, user: User, method: str) -> None:
    request.session.cycle_key()  # a new session key once the second factor is passed (ASVS 7.2.4)
    request.session[SESSION_KEY] = time.time()
    request.session[SESSION_USER_KEY] = user.pk
    audit_event_record(action="step_up.passed", actor=user, after={"method": method}, request=request)


def _failed(request: HttpRequest, user: User, method: str) -> None:
    audit_event_record(
        action="step_up.failed",
        actor=user,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"method": method},
        request=request,
    )


def step_up_verify_code(*, request: HttpRequest, user: User, code: str) -> None:
    problem = one_time_code_verify(StepUpCode.objects.filter(user=user), code, scope=_scope(user))
    if problem is not None:
        _failed(request, user, "code")
        raise StepUpError(problem.message)
    _passed(request, user, "code")


def step_up_verify_totp(*, request: HttpRequest, user: User, code: str) -> None:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None or not authenticator.wrap().validate_code(code.strip().replace(" ", "")):
        _failed(request, user, "totp")
        raise StepUpError(gettext("That code is not right. Use the current code from your authenticator app."))
    _passed(request, user, "totp")
