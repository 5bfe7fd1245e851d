"""Where each card lives: its tokens as the network's Customer Service API describes them, and the changes a
cardholder or a staff member makes to them (suspend, resume, remove).

The records are written from the network's answers only. A change is sent to the network first; the record then
takes the network's word (a search by the token's reference) or, when that search cannot be made at once, the
change the network accepted, until the next refresh. Who may do what:

- a cardholder acts on the tokens of their own cards, after a recent second factor (checked by the interfaces);
  they may lift only a suspension they made themselves, never the bank's, the wallet's or the network's;
- a staff member needs `provisioning.change_cardtoken` (Operations; Auditors only read), and gives the reason code
  the Customer Service API defines and a comment.

Every change, refused or not, leaves an audit event (`token.suspended`, `token.resumed`, `token.removed`).
"""

import enum
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders import vault
from cardholders.models import Card
from provisioning.mdes.customer_service import CustomerServiceClient
from provisioning.mdes.customer_service_types import (
    ActivateReason,
    AuditInfo,
    DeleteReason,
    SuspendReason,
    Token,
    UnsuspendReason,
    check_comment,
)
from provisioning.mdes.errors import MdesApplicationError, MdesConfigurationError, MdesError, MdesOutcomeUnknown
from provisioning.models import CardToken, CardTokenCheck, PushReceipt, PushRequest, TokenRequestor
from provisioning.selectors import network_configuration_active

logger = logging.getLogger(__name__)

Party = CardToken.Party
Status = CardToken.Status


def cardholder_reference(*, cardholder_id: int | None, push_public_id: object = None) -> str:
    """The pseudonymous reference that goes to the network with a self-service call: the cardholder's row id, or
    the push for a card handed out by landing link. Never a name, an e-mail address or a card number."""
    return f"cardholder-{cardholder_id}" if cardholder_id else f"push-{push_public_id}"


def self_service_audit(reference: str) -> AuditInfo:
    return AuditInfo.service(cardholder_reference=reference, organization=settings.PORTAL_ISSUER_NAME[:64])


def customer_service_client(*, quick: bool = False) -> CustomerServiceClient:
    """The client of the active network configuration. `quick`: someone is waiting, so MDES gets a short
    timeout (PROVISIONING_NETWORK_CHECK_TIMEOUT_SECONDS) and the background tries again later."""
    config = network_configuration_active()
    if config is None:
        raise MdesConfigurationError("No network configuration is active")
    seconds = settings.PROVISIONING_NETWORK_CHECK_TIMEOUT_SECONDS
    return CustomerServiceClient.from_configuration(config, timeout=(min(seconds, 3.05), seconds) if quick else None)


# --- records ---------------------------------------------------------------------------------------------------------
def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def card_tokens_record(card: Card, tokens: Iterable[Token]) -> list[CardToken]:
    """Store what the network said of these tokens of `card` (its answer is the truth: every field is replaced).
    Tokens of another card (by the account number's last four) are ignored."""
    own = [t for t in tokens if t.account_pan_suffix is None or t.account_pan_suffix == card.last_four]
    if not own:
        return []
    now = timezone.now()
    requestors = {r.trid: r for r in TokenRequestor.objects.filter(trid__in={t.token_requestor_id for t in own})}
    references = {t.token_unique_reference for t in own}
    known = {r.token_unique_reference: r for r in CardToken.objects.filter(token_unique_reference__in=references)}
    records = []
    for token in own:
        record = known.get(token.token_unique_reference) or CardToken(
            card=card, token_unique_reference=token.token_unique_reference
        )
        if record.card_id != card.pk:
            continue  # recorded for another card with the same last four: that card's search keeps it
        requestor = requestors.get(token.token_requestor_id or "")
        record.token_requestor = requestor
        record.trid = token.token_requestor_id or ""
        record.token_requestor_name = (
            token.consumer_facing_name
            or token.token_requestor_name
            or (requestor.consumer_facing_name if requestor else "")
        )[:100]
        record.status = token.status if token.status in Status.values else Status.IN_PROGRESS
        record.status_at = _moment(token.status_at) or record.status_at
        record.suspenders = list(token.suspenders)
        if record.status != Status.SUSPENDED:
            record.portal_suspenders = []
        record.device_name = (token.device_name or "")[:64]
        record.device_type = (token.device_type or "")[:4]
        record.wallet_id = (token.wallet_id or "")[:3]
        record.token_suffix = (token.token_suffix or "")[-4:]
        record.deleted_from_consumer_app = token.deleted_from_consumer_app
        record.checked_at = now
        record.save()
        records.append(record)
    return records


def card_tokens_refresh(card: Card, *, quick: bool = False, audit: AuditInfo | None = None) -> CardTokenCheck:
    """Ask the network for every token of `card` and store them. The check records when it last answered; a
    failure is recorded and raised (MdesError), so a task can retry it and a page can say so. `audit`: who asks
    (a staff member); by default the portal's self-service identity for the card's holder."""
    asked = timezone.now()
    reference = cardholder_reference(cardholder_id=card.cardholder_id, push_public_id=card.public_id)
    try:
        client = customer_service_client(quick=quick)
        number = vault.card_account_data(card)["accountNumber"]  # goes only into the encrypted search
        found = client.search_by_account_number(number, audit=audit or self_service_audit(reference)).tokens
    except MdesError as error:
        CardTokenCheck.objects.update_or_create(
            card=card, defaults={"attempted_at": asked, "failure": str(error)[:200]}
        )
        logger.warning("Token refresh of card %s failed: %s", card.pk, type(error).__name__)
        raise
    card_tokens_record(card, found)
    return card_tokens_listed(card, at=asked)


def card_tokens_listed(card: Card, *, at: datetime | None = None) -> CardTokenCheck:
    """Record that the network just listed every token of the card (a search by its account number)."""
    moment = at or timezone.now()
    check, _created = CardTokenCheck.objects.update_or_create(
        card=card, defaults={"checked_at": moment, "attempted_at": moment, "failure": ""}
    )
    return check


def cards_due_for_token_refresh(*, limit: int = 100) -> list[Card]:
    """Cards with a live token or a push that returned, whose tokens the network was last asked about longer
    ago than PROVISIONING_TOKEN_REFRESH_INTERVAL_SECONDS (never asked first)."""
    stale_before = timezone.now() - timedelta(seconds=settings.PROVISIONING_TOKEN_REFRESH_INTERVAL_SECONDS)
    live = CardToken.objects.filter(card=OuterRef("pk")).exclude(status=Status.DELETED)
    returned = PushReceipt.objects.filter(card=OuterRef("pk"), state=PushReceipt.State.USED)
    return list(
        Card.objects.filter(Exists(live) | Exists(returned))
        .filter(
            Q(token_check__isnull=True)
            | Q(token_check__attempted_at__isnull=True)
            | Q(token_check__attempted_at__lt=stale_before)
        )
        .order_by("token_check__attempted_at", "pk")[:limit]
    )


# --- changes ---------------------------------------------------------------------------------------------------------
class TokenChangeRefused(Exception):  # noqa: N818 - the name says what happened
    """A change that may not be made, or that the network refused; the message is for the person."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class TokenChangeUnknown(Exception):  # noqa: N818
    """The network's answer to a change was lost: it may have applied it. The record is checked again."""


@dataclass(frozen=True)
class TokenActor:
    """Who asks for a change: the cardholder (self-service) or a staff member. `push`: the cardholder acts through
    that push of theirs (streamlined activation), which also covers a landing link's recipient, who has no account."""

    user: Any
    is_staff: bool
    request: HttpRequest | None = None
    by_link: bool = False
    push: PushRequest | None = None

    @classmethod
    def cardholder(cls, user: Any, request: HttpRequest | None = None) -> "TokenActor":
        return cls(user=user, is_staff=False, request=request)

    @classmethod
    def cardholder_by_link(cls, user: Any, request: HttpRequest | None = None) -> "TokenActor":
        """The cardholder through a single-use link sent to a channel on file, not signed in ("Was this you?"):
        the link proves only that the message reached them, enough to suspend (the safe direction) and no more."""
        return cls(user=user, is_staff=False, request=request, by_link=True)

    @classmethod
    def pusher(cls, push: PushRequest, request: HttpRequest | None = None) -> "TokenActor":
        user = push.cardholder.user if push.cardholder is not None else None
        return cls(user=user, is_staff=False, request=request, push=push)

    @classmethod
    def staff(cls, user: Any, request: HttpRequest | None = None) -> "TokenActor":
        return cls(user=user, is_staff=True, request=request)

    @property
    def party(self) -> str:
        return Party.ISSUER if self.is_staff else Party.CARDHOLDER

    def audit_info(self, token: CardToken) -> AuditInfo:
        if self.is_staff:
            return staff_audit_info(self.user)
        card = token.card
        return self_service_audit(cardholder_reference(cardholder_id=card.cardholder_id, push_public_id=card.public_id))


def staff_audit_info(user: Any) -> AuditInfo:
    """The staff member as the network records them: the portal's user id and their name, never their e-mail
    address (MDES keeps AuditInfo; the e-mail address is also the username here)."""
    name = (user.get_full_name() or f"Staff member {user.pk}")[:200]
    return AuditInfo.staff(user_id=user.pk, user_name=name.ljust(4, "."), organization=settings.PORTAL_ISSUER_NAME[:64])


def _may_change(token: CardToken, actor: TokenActor) -> None:
    if actor.is_staff:
        if not actor.user.has_perm("provisioning.change_cardtoken"):
            raise TokenChangeRefused(_("You may look at tokens but not change them."), code="forbidden")
        return
    if actor.push is not None:
        if not PushReceipt.objects.filter(push=actor.push, card_id=token.card_id).exists():
            raise TokenChangeRefused(_("This card is not yours."), code="not_your_card")
        return
    holder = getattr(token.card.cardholder, "user_id", None)
    if holder is None or holder != actor.user.pk:
        raise TokenChangeRefused(_("This card is not yours."), code="not_your_card")


def cardholder_may_resume(token: CardToken) -> bool:
    """Only a suspension the cardholder made alone: never one by the bank, the wallet or the network."""
    return token.status == Status.SUSPENDED and token.suspended_by == {Party.CARDHOLDER}


def _reason(value: str | None, default: str, allowed: type[enum.StrEnum], actor: TokenActor) -> str:
    if value is None or not actor.is_staff:
        return default  # a cardholder's change carries the portal's reason; staff choose theirs
    try:
        return str(allowed(value))
    except ValueError:
        codes = ", ".join(member.value for member in allowed)
        raise TokenChangeRefused(_("Choose one of the reasons %(codes)s.") % {"codes": codes}, code="reason") from None


def _comment(comment: str | None, actor: TokenActor) -> str | None:
    comment = (comment or "").strip() or None
    if actor.is_staff and comment is None:
        raise TokenChangeRefused(_("Say in a comment why."), code="comment")
    try:
        return check_comment(comment)
    except ValueError:
        raise TokenChangeRefused(_("The comment is too long."), code="comment") from None


def token_suspend(
    token: CardToken, *, actor: TokenActor, reason_code: str | None = None, comment: str | None = None
) -> CardToken:
    with _refusal_audited(token, actor, "token.suspended"):
        _may_change(token, actor)
        # The bank may add its suspension to the cardholder's (so that they cannot lift it alone), and the other way.
        if token.status not in (Status.ACTIVE, Status.SUSPENDED) or not token.is_live:
            raise TokenChangeRefused(_("Only an active card can be paused."), code="token_state")
        if actor.party in token.suspended_by:
            raise TokenChangeRefused(_("This card is already paused."), code="token_state")
        # A token the cardholder says they did not make is the network's suspected fraud.
        default = SuspendReason.FRAUDULENT_TRANSACTIONS if actor.by_link else SuspendReason.OTHER
        code = _reason(reason_code, default, SuspendReason, actor)
        text = _comment(comment, actor)
    return _change(
        token,
        actor,
        action="token.suspended",
        call=lambda client, audit: client.suspend(
            token.token_unique_reference, reason_code=code, audit=audit, comment=text
        ),
        accepted={"status": Status.SUSPENDED, "portal_suspenders": sorted({*token.portal_suspenders, actor.party})},
        detail=f"reason {code}" + (f": {text}" if text else ""),
    )


def token_resume(
    token: CardToken, *, actor: TokenActor, reason_code: str | None = None, comment: str | None = None
) -> CardToken:
    with _refusal_audited(token, actor, "token.resumed"):
        _may_change(token, actor)
        if token.status != Status.SUSPENDED:
            raise TokenChangeRefused(_("Only a paused card can be resumed."), code="token_state")
        if not actor.is_staff and not cardholder_may_resume(token):
            raise TokenChangeRefused(
                _("Your bank or the wallet paused this card: only they can resume it. Call us if you need help."),
                code="suspended_by_other",
            )
        if actor.is_staff and not token.suspended_by & {Party.ISSUER, Party.CARDHOLDER}:
            raise TokenChangeRefused(_("Only the wallet or the network can lift this suspension."), code="token_state")
        code = _reason(reason_code, UnsuspendReason.OTHER, UnsuspendReason, actor)
        text = _comment(comment, actor)
        remaining = [party for party in token.portal_suspenders if party != actor.party and actor.party != Party.ISSUER]
        others = token.suspended_by - {Party.ISSUER, Party.CARDHOLDER}
    return _change(
        token,
        actor,
        action="token.resumed",
        call=lambda client, audit: client.unsuspend(
            token.token_unique_reference, reason_code=code, audit=audit, comment=text
        ),
        accepted={"status": Status.SUSPENDED if remaining or others else Status.ACTIVE, "portal_suspenders": remaining},
        detail=f"reason {code}" + (f": {text}" if text else ""),
    )


def token_activate(
    token: CardToken, *, actor: TokenActor, reason_code: str | None = None, comment: str | None = None
) -> CardToken:
    """Activate a token the network holds awaiting the cardholder's proof: the cardholder approved a wallet request
    after a second factor, or the portal completes a push's activation itself (streamlined activation)."""
    with _refusal_audited(token, actor, "token.activated"):
        _may_change(token, actor)
        if token.status != Status.IN_PROGRESS or not token.is_live:
            raise TokenChangeRefused(_("Only a card still being set up can be activated."), code="token_state")
        default = ActivateReason.AUTHENTICATED_BY_ACTIVATION_METHOD
        code = _reason(reason_code, default, ActivateReason, actor)
        text = _comment(comment, actor)
    return _change(
        token,
        actor,
        action="token.activated",
        call=lambda client, audit: client.activate(
            token.token_unique_reference, reason_code=code, audit=audit, comment=text
        ),
        accepted={"status": Status.ACTIVE},
        detail=f"reason {code}" + (f": {text}" if text else ""),
    )


def token_remove(
    token: CardToken,
    *,
    actor: TokenActor,
    everywhere: bool,
    reason_code: str | None = None,
    comment: str | None = None,
) -> CardToken:
    """`everywhere`: delete the token in the network for good; otherwise remove it from the device or the
    merchant only (DeleteFromConsumerApp), where the network keeps it for subscriptions."""
    with _refusal_audited(token, actor, "token.removed"):
        _may_change(token, actor)
        if not token.is_live:
            raise TokenChangeRefused(_("This card has already been removed there."), code="token_state")
        code = _reason(reason_code, DeleteReason.DELETED_BY_ISSUER_OR_CONSUMER, DeleteReason, actor)
        text = _comment(comment, actor)
        accepted: dict[str, Any] = {"status": Status.DELETED} if everywhere else {"deleted_from_consumer_app": True}
    return _change(
        token,
        actor,
        action="token.removed",
        call=lambda client, audit: client.delete(
            token.token_unique_reference,
            reason_code=code,
            audit=audit,
            comment=text,
            from_consumer_app_only=not everywhere,
        ),
        accepted=accepted,
        detail=f"reason {code}, {'everywhere' if everywhere else 'from the device only'}"
        + (f": {text}" if text else ""),
    )


def _change(
    token: CardToken,
    actor: TokenActor,
    *,
    action: str,
    call: Any,
    accepted: dict[str, Any],
    detail: str,
) -> CardToken:
    before = {"status": token.status, "suspenders": list(token.suspenders)}
    if actor.by_link and action != "token.suspended":
        _audited(token, actor, action, AuditEvent.Outcome.FAILURE, before, "refused (sign_in_needed)")
        raise TokenChangeRefused(_("Sign in to do this."), code="sign_in_needed")
    audit = actor.audit_info(token)
    try:
        client = customer_service_client(quick=not actor.is_staff)
        call(client, audit)
    except MdesOutcomeUnknown as error:
        _audited(token, actor, action, AuditEvent.Outcome.FAILURE, before, f"{detail}; outcome unknown: {error}")
        _refresh_later(token.card)
        raise TokenChangeUnknown(
            _("The card network did not confirm the change in time. We are checking; look again in a minute.")
        ) from error
    except MdesApplicationError as error:
        _audited(token, actor, action, AuditEvent.Outcome.FAILURE, before, f"{detail}; refused: {error}")
        raise TokenChangeRefused(
            _("The card network refused the change (%(codes)s).") % {"codes": ", ".join(error.reason_codes) or "?"},
            code="network_refused",
        ) from error
    except MdesError as error:
        _audited(token, actor, action, AuditEvent.Outcome.FAILURE, before, f"{detail}; not sent: {error}")
        raise TokenChangeRefused(
            _("The card network cannot be reached just now. Nothing was changed; please try again later."),
            code="network_unavailable",
        ) from error
    with transaction.atomic():
        for name, value in accepted.items():
            setattr(token, name, value)
        token.status_at = timezone.now()
        token.save()
        _audited(token, actor, action, AuditEvent.Outcome.SUCCESS, before, detail)
    _take_network_word(token, client, audit)
    return token


def _take_network_word(token: CardToken, client: CustomerServiceClient, audit: AuditInfo) -> None:
    """The network's description of the token after the change; the accepted change stands until it answers."""
    try:
        found = client.search_by_token_unique_reference(token.token_unique_reference, audit=audit)
    except MdesError:
        _refresh_later(token.card)
        return
    if card_tokens_record(
        token.card, [t for t in found.tokens if t.token_unique_reference == token.token_unique_reference]
    ):
        token.refresh_from_db()


@contextmanager
def _refusal_audited(token: CardToken, actor: TokenActor, action: str) -> Iterator[None]:
    """A change refused before it reaches the network is on record too."""
    try:
        yield
    except TokenChangeRefused as refusal:
        before = {"status": token.status, "suspenders": list(token.suspenders)}
        _audited(token, actor, action, AuditEvent.Outcome.FAILURE, before, f"refused ({refusal.code}): {refusal}")
        raise


def _refresh_later(card: Card) -> None:
    """Make the card due for the background refresh at once."""
    CardTokenCheck.objects.update_or_create(card=card, defaults={"attempted_at": None})


def _who(actor: TokenActor) -> str:
    if actor.is_staff:
        return "staff: "
    if actor.by_link:
        return "cardholder by link: "
    return f"cardholder, through push {actor.push.public_id}: " if actor.push is not None else "cardholder: "


def _audited(
    token: CardToken, actor: TokenActor, action: str, outcome: str, before: dict[str, Any], detail: str
) -> None:
    audit_event_record(
        action=action,
        actor=actor.user,
        target=token,
        outcome=outcome,
        before=before,
        after={"status": token.status, "portal_suspenders": list(token.portal_suspenders)},
        detail=_who(actor) + detail,
        request=actor.request,
    )
