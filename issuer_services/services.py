"""MDES's issuer services: what each call does to the portal's records, and what it answers (W2 shapes).

The views authenticate the caller and parse the body; everything here gets a checked request and returns the JSON
answer, or raises IssuerServiceError (answered in MDES's error shape). Each call leaves an audit event; none makes
a network call of its own except delivering a code through the message backend.

Token records (`provisioning.CardToken`) are written here in the network's own words: authorizeService and
requestActivationMethods announce a token (status U), notifyServiceActivated makes it active, notifyTokenUpdated
carries its later changes. Applying the same notification twice changes nothing and records nothing new.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Card
from core.messaging import MessageNotSentError
from issuer_services.activation_codes import activation_code_deliver, activation_code_validate
from issuer_services.activation_methods import activation_methods_for, code_channel_for
from issuer_services.decisions import Facts, Outcome, decide
from issuer_services.funding_accounts import FundingAccount, funding_account_open
from issuer_services.models import Decision, DecisionRules, TokenizationRequest
from issuer_services.token_alerts import token_alert_raise
from issuer_services.webhook_events import wallet_request_pending_announce
from issuer_services.wire import (
    AuthorizeServiceRequest,
    DeliverActivationCodeRequest,
    ErrorCode,
    IssuerServiceError,
    NotifyServiceActivatedRequest,
    NotifyTokenUpdatedRequest,
    UpdatedToken,
    ValidateActivationCodeRequest,
    timestamp,
)
from provisioning.models import CardToken, PushReceipt, TokenRequestor

logger = logging.getLogger(__name__)

ACTOR = "MDES (issuer services)"
DIGITIZATION = "DIGITIZATION"
# notifyTokenUpdated's words for a token's status and its suspenders, in the Customer Service API's codes.
TOKEN_STATUSES = {"INACTIVE": "U", "ACTIVE": "A", "SUSPENDED": "S", "DEACTIVATED": "D"}
# [INFERRED] M for a locked mobile PIN and P for the (deprecated) payment app provider: the Customer Service API
# names the codes I, W, C, P and M without saying which is which beyond I, W and C.
SUSPENDERS = {
    "ISSUER": "I",
    "TOKEN_REQUESTOR": "W",
    "CARDHOLDER": "C",
    "MOBILE_PIN_LOCKED": "M",
    "PAYMENT_APP_PROVIDER": "P",
}
STATE_OF = {
    Decision.APPROVED: TokenizationRequest.State.APPROVED,
    Decision.REQUIRE_ADDITIONAL_AUTHENTICATION: TokenizationRequest.State.PENDING,
    Decision.DECLINED: TokenizationRequest.State.DECLINED,
}


def _record(action: str, *, target: Any = None, after: dict[str, Any] | None = None, **fields: Any) -> None:
    audit_event_record(action=action, actor_label=ACTOR, target=target, after=after, **fields)


def refusal_record(*, operation: str, error: IssuerServiceError, request_id: str, request: HttpRequest) -> None:
    """Every call the portal did not act on, with why."""
    audit_event_record(
        action="issuer_service.refused",
        actor_label=ACTOR,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"operation": operation, "error_code": error.code, "status": error.status, "request_id": request_id},
        detail=f"{operation}: {error.description}",
        request=request,
    )


# --- authorizeService ----------------------------------------------------------------------------------------------
def _token_requestor(trid: str) -> TokenRequestor | None:
    return TokenRequestor.objects.filter(trid=trid).first() if trid else None


def _portal_pushed(card: Card, trid: str, minutes: int) -> bool:
    since = timezone.now() - timedelta(minutes=minutes)
    receipts = PushReceipt.objects.filter(card=card, push__token_requestor__trid=trid, created_at__gte=since)
    return bool(trid) and receipts.exclude(state=PushReceipt.State.REFUSED).exists()


def _live_tokens(card: Card) -> int:
    live = CardToken.objects.filter(card=card, status__in=[CardToken.Status.ACTIVE, CardToken.Status.SUSPENDED])
    return live.filter(deleted_from_consumer_app=False).count()


def _new_device(card: Card, ask: AuthorizeServiceRequest) -> bool:
    """Whether none of the cardholder's cards (this card, for a card without one) is on this device already."""
    name, instance = ask.device.device_name.strip(), ask.payment_app_instance_id
    if not name and not instance:
        return False  # no device (a merchant's card on file): nothing to compare
    cards = Card.objects.filter(cardholder=card.cardholder) if card.cardholder_id else Card.objects.filter(pk=card.pk)
    known_name = bool(name) and (
        CardToken.objects.filter(card__in=cards, device_name__iexact=name, status__in=["A", "S"]).exists()
    )
    known_instance = bool(instance) and (
        TokenizationRequest.objects.filter(
            card__in=cards, payment_app_instance_id=instance, state=TokenizationRequest.State.ACTIVATED
        ).exists()
    )
    return not (known_name or known_instance)


def _facts(ask: AuthorizeServiceRequest, account: FundingAccount, rules: DecisionRules) -> Facts:
    card = account.card
    if card is None:
        return Facts(
            card_known=False, card_active=False, expiry_matches=False, source=account.source, portal_pushed=False
        )
    today = timezone.now().date()
    unexpired = (card.expiry_year, card.expiry_month) >= (today.year, today.month)
    return Facts(
        card_known=True,
        card_active=card.state == Card.State.ACTIVE and unexpired,
        expiry_matches=account.expiry_matches,
        source=account.source,
        portal_pushed=_portal_pushed(card, ask.token_requestor_id, rules.push_match_minutes),
        wallet_recommendation=ask.wallet.recommended_decision,
        device_score=ask.wallet.device_score,
        account_score=ask.wallet.account_score,
        active_tokens=max(_live_tokens(card), ask.active_token_count or 0),
        new_device=_new_device(card, ask),
        click_to_pay=ask.token_requestor_id in settings.CLICK_TO_PAY_TOKEN_REQUESTOR_IDS,
    )


def _token_announce(card: Card, ask: AuthorizeServiceRequest, requestor: TokenRequestor | None) -> None:
    """The token MDES is making, as a record in progress (U); a token the portal already knows keeps its record."""
    reference = ask.funding.token_unique_reference
    if CardToken.objects.filter(token_unique_reference=reference).exists():
        return
    CardToken.objects.create(
        card=card,
        token_requestor=requestor,
        trid=ask.token_requestor_id,
        token_requestor_name=(ask.consumer_facing_name or (requestor.consumer_facing_name if requestor else ""))[:100],
        token_unique_reference=reference,
        status=CardToken.Status.IN_PROGRESS,
        status_at=timezone.now(),
        device_name=ask.device.device_name[:64],
        wallet_id=ask.wallet_id,
        checked_at=timezone.now(),
    )


def _request_record(
    card: Card, ask: AuthorizeServiceRequest, account: FundingAccount, facts: Facts, outcome: Outcome
) -> TokenizationRequest | None:
    """Keep the decision by the token's reference (MDES gives it since July 2022; without it there is nothing to
    act on later). A repeated question about the same token updates its record."""
    reference = ask.funding.token_unique_reference
    if not reference:
        return None
    requestor = _token_requestor(ask.token_requestor_id)
    values = {
        "correlation_id": ask.correlation_id,
        "request_id": ask.request_id,
        "card": card,
        "token_requestor": requestor,
        "trid": ask.token_requestor_id,
        "wallet_id": ask.wallet_id,
        "consumer_facing_name": (ask.consumer_facing_name or (requestor.consumer_facing_name if requestor else ""))[
            :100
        ],
        "token_type": ask.token_type,
        "source": account.source,
        "payment_app_instance_id": ask.payment_app_instance_id,
        "device_name": ask.device.device_name[:64],
        "device_form_factor": ask.device.form_factor[:64],
        "device_os": ask.device.os_name[:32],
        "wallet_recommendation": ask.wallet.recommended_decision[:64],
        "device_score": facts.device_score,
        "account_score": facts.account_score,
        "active_tokens": min(facts.active_tokens, 99),
        "new_device": facts.new_device,
        "decision": outcome.decision,
        "reasons": list(outcome.reasons),
        "expires_at": timezone.now() + timedelta(hours=settings.ISSUER_SERVICES_PENDING_HOURS),
    }
    with transaction.atomic():
        record = TokenizationRequest.objects.select_for_update().filter(token_unique_reference=reference).first()
        if record is not None and record.card_id != card.pk:
            raise IssuerServiceError(ErrorCode.INVALID_FIELD_VALUE, "This token reference belongs to another card")
        if record is None:
            record = TokenizationRequest(token_unique_reference=reference, state=STATE_OF[outcome.decision], **values)
        elif record.state in (TokenizationRequest.State.APPROVED, TokenizationRequest.State.PENDING):
            for name, value in values.items():
                setattr(record, name, value)
            record.state = STATE_OF[outcome.decision]
        record.save()
        if outcome.decision != Decision.DECLINED:
            _token_announce(card, ask, requestor)
        wallet_request_pending_announce(record)
    return record


def _answer_services(ask: AuthorizeServiceRequest, decision: Decision) -> list[str]:
    return [] if decision == Decision.DECLINED else [s for s in ask.services if s == DIGITIZATION]


def authorize_service(data: dict[str, Any]) -> dict[str, Any]:
    ask = AuthorizeServiceRequest.read(data)
    account = funding_account_open(ask.funding.encrypted_payload)
    rules = DecisionRules.current()
    facts = _facts(ask, account, rules)
    outcome = decide(facts, rules)
    if DIGITIZATION not in ask.services and outcome.decision != Decision.DECLINED:
        outcome = Outcome(Decision.DECLINED, (*outcome.reasons, "service_not_offered"))
    record = _request_record(account.card, ask, account, facts, outcome) if account.card else None
    methods = (
        activation_methods_for(account.card)
        if account.card and outcome.decision == Decision.REQUIRE_ADDITIONAL_AUTHENTICATION
        else []
    )
    _record(
        "issuer_service.authorized",
        target=record or account.card,
        after={
            "decision": outcome.decision,
            "reasons": list(outcome.reasons),
            "source": account.source,
            "trid": ask.token_requestor_id,
            "card_suffix": account.account_suffix,
            "methods": [method.type for method in methods],
        },
        outcome=AuditEvent.Outcome.SUCCESS if account.card else AuditEvent.Outcome.FAILURE,
        detail="" if account.card else "The funding account is no card of this issuer",
    )
    answer: dict[str, Any] = {
        "responseId": ask.request_id,
        "services": _answer_services(ask, outcome.decision),
        "decision": outcome.decision,
        "activationMethods": [method.to_json() for method in methods],
    }
    if account.security_code_given:
        answer["cvcResponse"] = "NOT_PROCESSED"  # the portal holds no security codes (PCI DSS 3.3.1.2)
    return answer


# --- requestActivationMethods --------------------------------------------------------------------------------------
def request_activation_methods(data: dict[str, Any]) -> dict[str, Any]:
    """MDES asks only once it decided REQUIRE_ADDITIONAL_AUTHENTICATION (perhaps by its own rules, without asking
    authorizeService): the request is then recorded as pending. Card data that does not check out (unknown,
    not active, wrong expiry) gets an empty list, as W2 says."""
    ask = AuthorizeServiceRequest.read(data)
    account = funding_account_open(ask.funding.encrypted_payload)
    card = account.card
    usable = card is not None and card.state == Card.State.ACTIVE and account.expiry_matches
    record = None
    if card is not None and usable and ask.funding.token_unique_reference:
        record = TokenizationRequest.objects.filter(token_unique_reference=ask.funding.token_unique_reference).first()
        if record is None:
            facts = _facts(ask, account, DecisionRules.current())
            outcome = Outcome(Decision.REQUIRE_ADDITIONAL_AUTHENTICATION, ("decided_by_network",))
            record = _request_record(card, ask, account, facts, outcome)
        usable = record is not None and record.state != TokenizationRequest.State.DECLINED
    methods = activation_methods_for(card) if card is not None and usable else []
    _record(
        "issuer_service.activation_methods_sent",
        target=record or card,
        after={"methods": [method.type for method in methods], "card_suffix": account.account_suffix},
    )
    return {"responseId": ask.request_id, "activationMethods": [method.to_json() for method in methods]}


# --- deliverActivationCode, validateActivationCode -----------------------------------------------------------------
def _request_of(reference: str, correlation_id: str) -> TokenizationRequest:
    record = (
        TokenizationRequest.objects.select_related("card__cardholder__user")
        .filter(token_unique_reference=reference)
        .first()
    )
    if record is None:
        raise IssuerServiceError(ErrorCode.UNKNOWN_TOKEN, "The issuer was never asked about this token", status=404)
    if record.correlation_id != correlation_id:
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_VALUE, "The correlationId is not this token's")
    return record


def deliver_activation_code(data: dict[str, Any]) -> dict[str, Any]:
    ask = DeliverActivationCodeRequest.read(data)
    record = _request_of(ask.token_unique_reference, ask.correlation_id)
    if record.state == TokenizationRequest.State.DECLINED:
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_VALUE, "The issuer declined this token")
    channel = code_channel_for(record.card, ask.method.type)
    if channel is None:
        raise IssuerServiceError(
            ErrorCode.INVALID_FIELD_VALUE, f"No code can be sent by {ask.method.type[:40]} to this cardholder"
        )
    try:
        code = activation_code_deliver(record, channel, mdes_code=ask.activation_code, mdes_expiry=ask.expiration)
    except MessageNotSentError as exc:
        _record(
            "issuer_service.activation_code_not_sent",
            target=record,
            outcome=AuditEvent.Outcome.FAILURE,
            after={"method": ask.method.type},
            detail=str(exc)[:200],
        )
        raise IssuerServiceError(ErrorCode.NOT_DELIVERED, "The code could not be sent just now", status=503) from exc
    record.activation_method = ask.method.type
    record.save(update_fields=["activation_method"])
    _record(
        "issuer_service.activation_code_sent",
        target=record,
        after={"method": ask.method.type, "origin": code.origin, "sends": code.sends, "sent_to": code.sent_to_hint},
    )
    return {"responseId": ask.request_id}


def validate_activation_code(data: dict[str, Any]) -> dict[str, Any]:
    ask = ValidateActivationCodeRequest.read(data)
    record = _request_of(ask.token_unique_reference, ask.correlation_id)
    result = activation_code_validate(record, ask.activation_code)
    _record(
        "issuer_service.activation_code_checked",
        target=record,
        outcome=AuditEvent.Outcome.SUCCESS if result == "SUCCESS" else AuditEvent.Outcome.FAILURE,
        after={"result": result},
    )
    return {"responseId": ask.request_id, "result": result}


# --- notifyServiceActivated, notifyTokenUpdated --------------------------------------------------------------------
@dataclass(frozen=True)
class _Change:
    before: dict[str, Any]
    after: dict[str, Any]


def _apply(token: CardToken, values: dict[str, Any]) -> _Change | None:
    """Set what differs; None when nothing does (the same notification again)."""
    before = {name: getattr(token, name) for name, value in values.items() if getattr(token, name) != value}
    if not before:
        return None
    for name in before:
        setattr(token, name, values[name])
    token.checked_at = timezone.now()
    token.save()
    after = {name: values[name] for name in before}
    return _Change(before={k: _plain(v) for k, v in before.items()}, after={k: _plain(v) for k, v in after.items()})


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _activated(reference: str) -> None:
    TokenizationRequest.objects.filter(
        token_unique_reference=reference,
        state__in=TokenizationRequest.states_leading_to(TokenizationRequest.State.ACTIVATED),
    ).update(state=TokenizationRequest.State.ACTIVATED, activated_at=timezone.now())


def notify_service_activated(data: dict[str, Any]) -> dict[str, Any]:
    ask = NotifyServiceActivatedRequest.read(data)
    reference = ask.funding.token_unique_reference
    with transaction.atomic():
        token = CardToken.objects.select_for_update().filter(token_unique_reference=reference).first()
        if token is None:
            # MDES decided without asking (its rules, or the network's messages): the payload names the card.
            card = funding_account_open(ask.funding.encrypted_payload).card
            if card is None:
                raise IssuerServiceError(
                    ErrorCode.UNKNOWN_TOKEN, "The funding account is no card of this issuer", status=404
                )
            requestor = _token_requestor(ask.token_requestor_id)
            token = CardToken.objects.create(
                card=card,
                token_requestor=requestor,
                trid=ask.token_requestor_id,
                token_requestor_name=requestor.consumer_facing_name if requestor else "",
                token_unique_reference=reference,
                status=CardToken.Status.IN_PROGRESS,
                checked_at=timezone.now(),
            )
        values: dict[str, Any] = {"status": CardToken.Status.ACTIVE}
        if token.status != CardToken.Status.ACTIVE:
            values["status_at"] = timestamp(ask.activated_at) or timezone.now()
        if ask.device.device_name:
            values["device_name"] = ask.device.device_name[:64]
        if ask.wallet_id:
            values["wallet_id"] = ask.wallet_id
        # A removed token stays removed: a later change of the network's comes as notifyTokenUpdated.
        change = None if token.status == CardToken.Status.DELETED else _apply(token, values)
        _activated(reference)
        if change is not None:
            token_alert_raise(token, status_before=change.before.get("status"))
    if change is None:
        logger.info("notifyServiceActivated for a token already active", extra={"mdes_request_id": ask.request_id})
    else:
        _record("issuer_service.token_activated", target=token, after=change.after | {"decision": ask.decision})
    return {"responseId": ask.request_id}


def _token_values(token: CardToken, update: UpdatedToken, reason_code: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    status = TOKEN_STATUSES.get(update.status)
    if status is not None and status != token.status:
        values["status"] = status
        values["status_at"] = timezone.now()
    if status is not None:
        values["suspenders"] = [SUSPENDERS[party] for party in update.suspended_by if party in SUSPENDERS]
        if status != CardToken.Status.SUSPENDED:
            values["portal_suspenders"] = []
    if reason_code == "DELETED_FROM_CONSUMER_APP":
        values["deleted_from_consumer_app"] = True
    return values


def notify_token_updated(data: dict[str, Any]) -> dict[str, Any]:
    ask = NotifyTokenUpdatedRequest.read(data)
    unknown = []
    for update in ask.tokens:
        with transaction.atomic():
            token = CardToken.objects.select_for_update().filter(token_unique_reference=update.token_unique_reference)
            record = token.first()
            if record is None:
                unknown.append(update.token_unique_reference)
                continue
            change = _apply(record, _token_values(record, update, ask.reason_code))
            if record.status == CardToken.Status.ACTIVE:
                _activated(record.token_unique_reference)
            if change is not None:
                token_alert_raise(record, status_before=change.before.get("status"))
        if change is not None:
            _record(
                "issuer_service.token_updated",
                target=record,
                after=change.after | {"reason_code": ask.reason_code},
                before=change.before,
            )
    if unknown:
        # Not an error for MDES (the token may predate the portal); staff see it, the next refresh may find it.
        _record(
            "issuer_service.token_update_unknown",
            outcome=AuditEvent.Outcome.FAILURE,
            after={"reason_code": ask.reason_code, "tokens": unknown[:20]},
            detail=f"{len(unknown)} token(s) the portal has no record of",
        )
    return {"responseId": ask.request_id}


OPERATIONS = {
    "authorizeService": authorize_service,
    "requestActivationMethods": request_activation_methods,
    "deliverActivationCode": deliver_activation_code,
    "validateActivationCode": validate_activation_code,
    "notifyServiceActivated": notify_service_activated,
    "notifyTokenUpdated": notify_token_updated,
}
