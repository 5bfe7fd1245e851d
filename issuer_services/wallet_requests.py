"""The cardholder's answer to a wallet request: a card typed into a wallet by hand (or tokenized by a merchant) that
MDES holds until the cardholder proves it is them (CARDHOLDER_TO_VISIT_WEBSITE, CARDHOLDER_TO_USE_MOBILE_APP).

Approving activates the token through the Customer Service API; declining deletes it there. Both are
`provisioning.tokens` changes (audited there, refusals included); the interfaces check the recent second factor.
A request is answered once: after the network took the answer it moves by one conditional update, and a second
answer (another tab, or the app) finds the token no longer awaiting activation and is refused.
"""

import enum
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Cardholder
from core.states import transition_update
from issuer_services.models import Decision, TokenizationRequest
from provisioning.models import CardToken
from provisioning.tokens import TokenActor, TokenChangeRefused, token_activate, token_remove

State = TokenizationRequest.State
# How long an answered or lapsed request stays on the page, saying what became of it.
SHOWN_AFTER_DAYS = 7


class WalletRequestView(enum.StrEnum):
    """What the page says of a request."""

    WAITING = "waiting"
    EXPIRED = "expired"
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class WalletRequest:
    """One wallet request as the cardholder sees it."""

    record: TokenizationRequest

    @property
    def view(self) -> WalletRequestView:
        record = self.record
        if record.state in (State.ACTIVATED, State.APPROVED):
            return WalletRequestView.APPROVED
        if record.state == State.DECLINED:
            return WalletRequestView.DECLINED
        if record.state == State.PENDING and record.expires_at > timezone.now():
            return WalletRequestView.WAITING
        return WalletRequestView.EXPIRED

    @property
    def is_waiting(self) -> bool:
        return self.view == WalletRequestView.WAITING

    @property
    def wallet_name(self) -> str:
        requestor = self.record.token_requestor
        name = requestor.consumer_facing_name if requestor is not None else ""
        return self.record.consumer_facing_name or name or _("A wallet or merchant")

    @property
    def logo_asset_id(self) -> str | None:
        requestor = self.record.token_requestor
        return requestor.logo.asset_id if requestor is not None and requestor.logo is not None else None


def wallet_requests_of(cardholder: Cardholder) -> list[WalletRequest]:
    """The cardholder's wallet requests: those waiting first (oldest deadline first), then those of the last days
    that were answered or lapsed, newest first."""
    since = timezone.now() - timedelta(days=SHOWN_AFTER_DAYS)
    records = (
        # Only those the portal asked the cardholder about: an approved or declined one never waited for them.
        TokenizationRequest.objects.filter(
            card__cardholder=cardholder, created_at__gte=since, decision=Decision.REQUIRE_ADDITIONAL_AUTHENTICATION
        )
        .select_related("card", "token_requestor__logo")
        .order_by("-created_at", "-id")
    )
    requests = [WalletRequest(record) for record in records]
    waiting = sorted((r for r in requests if r.is_waiting), key=lambda r: r.record.expires_at)
    return waiting + [r for r in requests if not r.is_waiting]


def wallet_request_of(cardholder: Cardholder, public_id: UUID | str) -> WalletRequest | None:
    record = (
        TokenizationRequest.objects.filter(card__cardholder=cardholder, public_id=public_id)
        .select_related("card", "token_requestor__logo")
        .first()
    )
    return WalletRequest(record) if record is not None else None


def _still_waiting(record: TokenizationRequest, actor: TokenActor, action: str) -> None:
    """Refuse (on record) a request that no longer waits for the cardholder."""
    record.refresh_from_db(fields=["state", "expires_at"])
    refusal = None
    if record.state == State.ACTIVATED:
        refusal = TokenChangeRefused(_("You already approved this request."), code="already_answered")
    elif record.state == State.DECLINED:
        refusal = TokenChangeRefused(_("This request was already declined."), code="already_answered")
    elif record.state != State.PENDING:
        refusal = TokenChangeRefused(_("This request does not need your answer."), code="already_answered")
    elif record.expires_at <= timezone.now():
        refusal = TokenChangeRefused(
            _("This request expired. To add the card, start again in the wallet."), code="expired"
        )
    if refusal is not None:
        audit_event_record(
            action=action,
            actor=actor.user,
            target=record,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=f"refused ({refusal.code}): {refusal}",
            request=actor.request,
        )
        raise refusal


def _token_of(record: TokenizationRequest) -> CardToken:
    token = CardToken.objects.filter(token_unique_reference=record.token_unique_reference, card=record.card).first()
    if token is None:  # authorizeService records it with the request; only a deleted record lacks it
        raise TokenChangeRefused(_("This request can no longer be answered here."), code="token_state")
    return token


def _answered(record: TokenizationRequest, target: str, **values: object) -> None:
    """The request takes the cardholder's answer once the network took it (by a conditional update: a
    notifyServiceActivated that came first has already moved it)."""
    method = record.activation_method or "CARDHOLDER_TO_VISIT_WEBSITE"
    transition_update(TokenizationRequest.objects.filter(pk=record.pk), target, activation_method=method, **values)
    record.refresh_from_db()


def wallet_request_approve(record: TokenizationRequest, *, actor: TokenActor) -> CardToken:
    """Activate the token (reason A: the cardholder authenticated by the activation method). Refusals and the
    network's failures are raised as `provisioning.tokens` raises them, after they are on record; the network call
    is not inside a transaction, so its record stays whatever happens."""
    _still_waiting(record, actor, "wallet_request.approved")
    token = _token_of(record)
    if token.status == CardToken.Status.ACTIVE:
        # The network activated it already (an approval whose answer was lost, seen by a refresh since): done.
        _already(record, actor, "wallet_request.approved", token)
    else:
        token = token_activate(token, actor=actor)
    _answered(record, State.ACTIVATED, activated_at=timezone.now())
    return token


def wallet_request_decline(record: TokenizationRequest, *, actor: TokenActor) -> CardToken:
    """Delete the token in the network for good (reason D: deleted by the consumer)."""
    _still_waiting(record, actor, "wallet_request.declined")
    token = _token_of(record)
    if token.status == CardToken.Status.DELETED:
        _already(record, actor, "wallet_request.declined", token)
    else:
        token = token_remove(token, actor=actor, everywhere=True)
    _answered(record, State.DECLINED)
    return token


def _already(record: TokenizationRequest, actor: TokenActor, action: str, token: CardToken) -> None:
    audit_event_record(
        action=action,
        actor=actor.user,
        target=record,
        detail=f"the network already holds the token as {token.get_status_display()}: nothing sent",
        request=actor.request,
    )
