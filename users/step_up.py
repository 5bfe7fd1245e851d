"""Step-up: a fresh second factor before a push (TOTP the cardholder enrolled, or a code by SMS or e-mail).

The proof lives in the session for PORTAL_STEP_UP_MAX_AGE_SECONDS; passing it renews the session key. Codes are
`core.one_time_codes`, scoped to the user. Every send, success and failure is audited.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.one_time_codes import (
    CodeChannel,
    CodeNotSentError,
    CodeProblem,
    code_channels_on_file,
    one_time_code_send,
    one_time_code_verify,
)
from users.models import StepUpCode, User

SESSION_KEY = "portal_step_up_at"
SESSION_USER_KEY = "portal_step_up_user"
SESSION_CARDS_KEY = "portal_step_up_cards"


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


@dataclass(frozen=True)
class StepUpProof:
    """A fresh proof as the session holds it: when it was passed, and the cards it is bound to (None: not yet)."""

    passed_at: datetime
    cards: tuple[str, ...] | None


def step_up_proof(request: HttpRequest) -> StepUpProof | None:
    """The session's proof while it is fresh, else None (for an app token minted after it, which carries it on)."""
    if not step_up_is_fresh(request):
        return None
    bound = request.session.get(SESSION_CARDS_KEY)
    passed_at = datetime.fromtimestamp(float(request.session[SESSION_KEY]), tz=UTC)
    return StepUpProof(passed_at=passed_at, cards=tuple(bound) if bound is not None else None)


def step_up_card_ids(card_ids: Iterable[object]) -> list[str]:
    """Card ids as a proof is bound to them: strings, each once, sorted."""
    return sorted({str(card_id) for card_id in card_ids})


def step_up_covers(request: HttpRequest, card_ids: Iterable[object]) -> bool:
    """Whether a fresh proof covers these cards: one not yet bound to any, or bound to all of them."""
    if not step_up_is_fresh(request):
        return False
    wanted = step_up_card_ids(card_ids)
    bound = request.session.get(SESSION_CARDS_KEY)
    return bound is None or set(wanted) <= set(bound)


def step_up_bind(request: HttpRequest, card_ids: Iterable[object]) -> None:
    """Bind a fresh proof to the cards it is first used for, so that it cannot later be spent on other cards
    (the cardholder confirms again for those). A proof already bound stays as it is."""
    if step_up_is_fresh(request) and request.session.get(SESSION_CARDS_KEY) is None:
        request.session[SESSION_CARDS_KEY] = step_up_card_ids(card_ids)


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
        raise (StepUpLimitError if exc.problem.limited else StepUpError)(exc.problem.message) from exc
    audit_event_record(action="step_up.code_sent", actor=user, after={"channel": channel.kind}, request=request)
    return channel


def _passed(request: HttpRequest, user: User, method: str) -> None:
    request.session.cycle_key()  # a new session key once the second factor is passed (ASVS 7.2.4)
    request.session[SESSION_KEY] = time.time()
    request.session[SESSION_USER_KEY] = user.pk
    request.session.pop(SESSION_CARDS_KEY, None)  # a new proof binds to the cards it is next used for
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
