"""Write use cases of landing links: minting, delivering, revoking, opening, proving possession, pushing.

Tokens are `secrets.token_urlsafe(32)` (256 bits), stored only as SHA-256 digests and looked up by digest (an
index look-up on a digest of a high-entropy value leaks nothing useful by timing). Possession is proven with
`core.one_time_codes`, scoped to the link.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Card
from core.messaging import Message, MessageNotSentError, message_send
from core.one_time_codes import (
    CodeChannel,
    CodeNotSentError,
    CodeProblem,
    code_channels_on_file,
    one_time_code_send,
    one_time_code_verify,
)
from landing.models import LandingAccessToken, LandingCode, LandingLink, LandingPush
from provisioning import services as provisioning
from provisioning.models import PushRequest, TokenRequestor
from provisioning.push_errors import PushError, PushErrorCode

PHONE_HANDOFF_LIFETIME = timedelta(minutes=10)


class LandingError(Exception):
    """Something to tell the person (`str(error)` is written for them); `field` names the input at fault."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class LandingLimitError(LandingError):
    """Too many codes or attempts in a short time."""


@dataclass(frozen=True)
class MintedLink:
    link: LandingLink
    url: str  # holds the token: shown once, sent once, never stored or logged


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(link: LandingLink, kind: str, expires_at: Any) -> str:
    token = secrets.token_urlsafe(32)
    LandingAccessToken.objects.create(link=link, kind=kind, token_digest=token_digest(token), expires_at=expires_at)
    return token


def landing_link_url(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("landing:open", args=[token])


def _actor_fields(actor: Any, actor_label: str) -> tuple[Any, str]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return user, actor_label or (str(user) if user is not None else "system")


def landing_link_mint(
    *,
    card: Card,
    purpose: str,
    recipient_phone: str = "",
    recipient_email: str = "",
    message: str = "",
    expires_in_days: int | None = None,
    program_name: str = "",
    card_art: "File[Any] | None" = None,
    max_pushes: int | None = None,
    actor: Any = None,
    actor_label: str = "",
    deliver: bool = False,
) -> MintedLink:
    """Mint a link for `card`, optionally sending it to the recipient at once (SMS first, else e-mail).

    Raises LandingError naming the field for anything a program manager or staff member must correct.
    """
    # The caps the settings name hold here, for every way in (admin, command, API), not only in a form.
    days = settings.LANDING_LINK_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.LANDING_LINK_MAX_DAYS:
        raise LandingError(
            gettext("A link lives from 1 to %(max)d days.") % {"max": settings.LANDING_LINK_MAX_DAYS},
            code="invalid_expiry",
            field="expires_in_days",
        )
    pushes = settings.LANDING_LINK_MAX_PUSHES if max_pushes is None else max_pushes
    if not 1 <= pushes <= settings.LANDING_LINK_MAX_PUSHES:
        raise LandingError(
            gettext("A link allows from 1 to %(max)d pushes.") % {"max": settings.LANDING_LINK_MAX_PUSHES},
            code="invalid_max_pushes",
            field="max_pushes",
        )
    if card.state != Card.State.ACTIVE:
        raise LandingError(gettext("Only an active card can be sent by link."), code="card_not_active", field="card")
    if card.cardholder_id is not None:
        raise LandingError(
            gettext("This card belongs to a cardholder's account; they add it to a wallet from their cards page."),
            code="card_has_cardholder",
            field="card",
        )
    if purpose not in LandingLink.Purpose.values:
        raise LandingError(gettext("Choose gift, expense or emergency."), code="invalid_purpose", field="purpose")
    user, label = _actor_fields(actor, actor_label)
    link = LandingLink(
        card=card,
        purpose=purpose,
        recipient_phone=recipient_phone.strip(),
        recipient_email=recipient_email.strip(),
        message=message.strip(),
        program_name=program_name.strip(),
        max_pushes=pushes,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=user,
        created_by_label=label[:254],
    )
    if card_art is not None:
        link.card_art = card_art
    if not link.recipient_phone and not link.recipient_email:
        raise LandingError(
            gettext("Give the recipient's mobile number or e-mail address: the one-time codes go there."),
            code="no_contact",
            field="recipient_phone",
        )
    try:
        link.full_clean(exclude=["card", "created_by"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise LandingError(messages[0], code="invalid", field=field) from exc
    with transaction.atomic():
        link.save()
        token = _new_token(link, LandingAccessToken.Kind.SENT, link.expires_at)
        audit_event_record(
            action="landing.link_minted",
            actor=user,
            actor_label=label,
            target=link,
            after={
                "card": card.masked_number,
                "purpose": purpose,
                "expires_at": link.expires_at.isoformat(),
                "contact": [k for k, v in (("sms", link.recipient_phone), ("email", link.recipient_email)) if v],
            },
        )
    minted = MintedLink(link=link, url=landing_link_url(token))
    if deliver:
        landing_link_deliver(minted=minted)
    return minted


def landing_link_deliver(*, minted: MintedLink) -> str:
    """Send the link to the recipient (text message if a phone is on file and SMS can be sent, else e-mail).
    Returns the channel used; raises LandingError if neither worked (the link stays valid: it can be resent)."""
    link = minted.link
    sender = link.display_name
    body = gettext("%(sender)s sent you a card. Open it on your phone to add it to your wallet: %(url)s") % {
        "sender": sender,
        "url": minted.url,
    }
    for channel in landing_code_channels(link):
        try:
            message_send(
                Message(
                    channel=channel.kind,
                    to=channel.address,
                    subject=gettext("Your card from %(sender)s") % {"sender": sender},
                    body=body,
                )
            )
        except MessageNotSentError as exc:
            audit_event_record(
                action="landing.link_not_sent",
                target=link,
                outcome=AuditEvent.Outcome.FAILURE,
                after={"channel": channel.kind},
                detail=str(exc),
            )
            continue
        audit_event_record(action="landing.link_sent", target=link, after={"channel": channel.kind})
        return channel.kind
    raise LandingError(
        gettext("The link could not be sent to the recipient. It is still valid; copy it or try again."),
        code="not_sent",
    )


def landing_link_revoke(*, link: LandingLink, actor: Any = None, actor_label: str = "") -> bool:
    """Stop the link at once, mid-flow included. Returns False if it was already revoked."""
    user, label = _actor_fields(actor, actor_label)
    now = timezone.now()
    revoked = LandingLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by_label=label[:254]
    )
    if revoked:
        audit_event_record(
            action="landing.link_revoked",
            actor=user,
            actor_label=label,
            target=link,
            before={"status": LandingLink.Status.ACTIVE},
            after={"status": LandingLink.Status.REVOKED},
        )
    link.refresh_from_db()
    return bool(revoked)


def landing_link_open(*, token: str, request: HttpRequest | None = None) -> LandingLink | None:
    """The usable link a token leads to, or None (unknown, expired, revoked, used up: all alike to the caller)."""
    access = (
        LandingAccessToken.objects.select_related("link__card__program")
        .filter(token_digest=token_digest(token), expires_at__gt=timezone.now())
        .first()
    )
    link = access.link if access is not None else None
    if link is None or link.status() != LandingLink.Status.ACTIVE:
        audit_event_record(
            action="landing.link_refused",
            target=link,
            outcome=AuditEvent.Outcome.FAILURE,
            detail="Unknown or expired token" if link is None else f"Link {link.status()}",
            request=request,
        )
        return None
    if link.first_opened_at is None:
        LandingLink.objects.filter(pk=link.pk, first_opened_at__isnull=True).update(first_opened_at=timezone.now())
    audit_event_record(
        action="landing.link_opened", target=link, after={"through": access.kind if access else ""}, request=request
    )
    return link


def landing_access_tokens_purge() -> int:
    """Delete access tokens past their expiry (a desktop mints one per page view). Returns how many went."""
    deleted, _ = LandingAccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def landing_phone_handoff_url(*, link: LandingLink) -> str:
    """A short-lived address of the same link, for a QR code on a desktop to continue on the phone."""
    token = _new_token(link, LandingAccessToken.Kind.PHONE_HANDOFF, timezone.now() + PHONE_HANDOFF_LIFETIME)
    audit_event_record(action="landing.phone_handoff_created", target=link)
    return landing_link_url(token)


def landing_code_channels(link: LandingLink) -> list[CodeChannel]:
    """Where a code can go: the contact details on file for the link, as far as the message backend reaches."""
    return code_channels_on_file(phone=link.recipient_phone, email=link.recipient_email)


def _scope(link: LandingLink) -> str:
    return f"landing:{link.public_id}"


def landing_code_send(*, link: LandingLink, channel_kind: str, request: HttpRequest | None = None) -> CodeChannel:
    try:
        channel = one_time_code_send(
            codes=link.codes,
            scope=_scope(link),
            channels=landing_code_channels(link),
            channel_kind=channel_kind,
            subject=gettext("Your code for your card from %(sender)s") % {"sender": link.display_name},
        )
    except CodeNotSentError as exc:
        if exc.problem is not CodeProblem.NO_CHANNEL:
            action = "landing.code_limited" if exc.problem.limited else "landing.code_not_sent"
            audit_event_record(
                action=action, target=link, outcome=AuditEvent.Outcome.FAILURE, detail=exc.detail, request=request
            )
        field = "channel" if exc.problem is CodeProblem.NO_CHANNEL else None
        error = LandingLimitError if exc.problem.limited else LandingError
        raise error(exc.problem.message, code=str(exc.problem), field=field) from exc
    audit_event_record(action="landing.code_sent", target=link, after={"channel": channel.kind}, request=request)
    return channel


def landing_code_verify(*, link: LandingLink, code: str, request: HttpRequest | None = None) -> None:
    """Raises LandingError unless `code` is the link's latest unexpired, unused code (then it is used up)."""
    problem = one_time_code_verify(LandingCode.objects.filter(link=link), code, scope=_scope(link))
    if problem is not None:
        audit_event_record(
            action="landing.code_failed",
            target=link,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=str(problem),
            request=request,
        )
        raise (LandingLimitError if problem.limited else LandingError)(problem.message, code=str(problem), field="code")
    audit_event_record(action="landing.code_passed", target=link, request=request)


def landing_push_start(
    *,
    link: LandingLink,
    token_requestor: TokenRequestor,
    device: str,
    locale: str | None,
    idempotency_key: str,
) -> provisioning.PushStarted:
    """Push the link's card (and only it) with the cardholder flow's own service, recorded against the link (as
    redirected: the caller sends the browser on).

    A place among the link's `max_pushes` is taken first, in one conditional UPDATE (so parallel requests cannot
    exceed it) and given back if the push fails before MDES issued anything. No transaction is held across the call
    to MDES. Raises LandingError if the link is no longer usable, PushError as the cardholder flow does.
    """
    now = timezone.now()
    taken = LandingLink.objects.filter(
        pk=link.pk,
        revoked_at__isnull=True,
        card__cardholder__isnull=True,
        expires_at__gt=now,
        pushes_started__lt=F("max_pushes"),
    ).update(pushes_started=F("pushes_started") + 1)
    if not taken:
        link.refresh_from_db()
        status = link.status()
        audit_event_record(
            action="landing.push_refused", target=link, outcome=AuditEvent.Outcome.FAILURE, detail=f"Link {status}"
        )
        raise LandingError(gettext("This link can no longer be used."), code=f"link_{status}")
    try:
        started = provisioning.push_start(
            cardholder=None,
            cards=[link.card],
            token_requestor=token_requestor,
            device=device,
            locale=locale,
            idempotency_key=idempotency_key,
            channel=PushRequest.Channel.LANDING,
            actor_label=f"landing link {link.public_id}",
            redirecting=True,  # the landing page sends the browser on at once
        )
    except PushError as error:
        already = error.code is PushErrorCode.ALREADY_STARTED
        if error.push is None or already or error.push.state == PushRequest.State.FAILED:
            LandingLink.objects.filter(pk=link.pk, pushes_started__gt=0).update(pushes_started=F("pushes_started") - 1)
        if error.push is not None and not already:
            LandingPush.objects.get_or_create(link=link, push=error.push)
        raise
    LandingPush.objects.create(link=link, push=started.push)
    return started
