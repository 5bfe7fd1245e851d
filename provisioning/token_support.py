"""Staff support for tokens: what staff ask the network about them (a token's status history, a card's tokens, a
token by its unique reference), and what to tell them when the network cannot answer.

Changes to a token (suspend, resume, remove) are `provisioning.tokens`'. Every question staff put to the network
goes as the staff member (AuditInfo); each search and each failure leaves an audit event.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Card
from provisioning.mdes.customer_service_types import StatusChange, Token
from provisioning.mdes.errors import (
    MdesApplicationError,
    MdesConfigurationError,
    MdesError,
    MdesGatewayError,
    MdesProtocolError,
)
from provisioning.models import CardToken
from provisioning.tokens import card_tokens_refresh, customer_service_client, staff_audit_info

logger = logging.getLogger(__name__)


def network_problem(error: MdesError) -> str:
    """Why the network gave no answer, in words a support agent can act on."""
    if isinstance(error, MdesConfigurationError):
        return (
            "The portal cannot talk to the card network: no network configuration is active or its keys cannot be "
            "read. An administrator must fix the network configuration."
        )
    if isinstance(error, MdesGatewayError):
        return (
            "Mastercard's gateway refused the portal's call (keys, signature or clock). An administrator must check "
            "the network configuration."
        )
    if isinstance(error, MdesApplicationError):
        return f"The card network refused the question ({', '.join(error.reason_codes) or 'no reason given'})."
    if isinstance(error, MdesProtocolError):
        return "The card network answered with something the portal cannot read. Try again later."
    return "The card network did not answer (it may be down or slow). Try again in a few minutes."


def token_events(token: CardToken) -> QuerySet[AuditEvent]:
    """The audit trail of this token: every change asked through the portal, refused or not, newest first."""
    return AuditEvent.objects.filter(object_type=CardToken._meta.label_lower, object_id=str(token.pk)).select_related(
        "actor"
    )


@dataclass(frozen=True)
class StatusHistory:
    changes: tuple[StatusChange, ...]
    problem: str = ""  # why the network could not be asked, for people; empty when it answered


def token_status_history(token: CardToken, *, user: Any, request: HttpRequest | None = None) -> StatusHistory:
    """The token's status changes as the network records them, asked now (a staff member is waiting: short timeout).
    A failure is audited and described, never raised."""
    try:
        changes = customer_service_client(quick=True).status_history(
            token.token_unique_reference, audit=staff_audit_info(user)
        )
    except MdesError as error:
        logger.warning("Status history of token %s failed: %s", token.pk, type(error).__name__)
        audit_event_record(
            action="token.status_history_failed",
            actor=user,
            target=token,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=str(error),
            request=request,
        )
        return StatusHistory((), network_problem(error))
    return StatusHistory(changes)


def card_tokens_find(card: Card, *, user: Any, request: HttpRequest | None = None) -> str:
    """Ask the network for every token of `card` (by the account number in the card's vault entry, encrypted; never
    a number staff type) and store what it says. Returns why the network did not answer, or "" when it did."""
    try:
        card_tokens_refresh(card, audit=staff_audit_info(user))
    except MdesError as error:
        problem, outcome, detail = network_problem(error), AuditEvent.Outcome.FAILURE, str(error)
    else:
        problem, outcome, detail = "", AuditEvent.Outcome.SUCCESS, ""
    audit_event_record(
        action="card.tokens_searched_by_staff",
        actor=user,
        target=card,
        outcome=outcome,
        after={"tokens": CardToken.objects.filter(card=card).count()},
        detail=detail,
        request=request,
    )
    return problem


@dataclass(frozen=True)
class ReferenceFound:
    record: CardToken | None  # the portal's record: known before, or linked to its card now
    network: tuple[Token, ...] = ()  # what the network said of a token the portal could not link to a card
    problem: str = ""


def _linked(reference: str, found: tuple[Token, ...], user: Any) -> CardToken | None:
    """The record of a token the portal did not know, once a card's own search lists it: a push of the card that
    reported this reference names the card to ask (the account suffix must agree), and only the card's search by
    its account number proves the token is the card's (a reported reference is browser input)."""
    suffixes = {token.account_pan_suffix for token in found if token.account_pan_suffix}
    candidates = Card.objects.filter(push_receipts__token_unique_reference=reference, last_four__in=suffixes).distinct()
    for card in candidates:
        try:
            card_tokens_refresh(card, audit=staff_audit_info(user))
        except MdesError:
            continue  # shown unlinked; the background refresh records it later
        record = CardToken.objects.filter(card=card, token_unique_reference=reference).first()
        if record is not None:
            return record
    return None


def token_reference_find(reference: str, *, user: Any, request: HttpRequest | None = None) -> ReferenceFound:
    """The token with this unique reference: the portal's record if it has one; else what the network says of it,
    stored only if it can be linked to its card (`_linked`), otherwise shown and not stored."""
    known = CardToken.objects.filter(token_unique_reference=reference).first()
    if known is not None:
        return ReferenceFound(known)
    try:
        answer = customer_service_client().search_by_token_unique_reference(reference, audit=staff_audit_info(user))
    except MdesError as error:
        audit_event_record(
            action="token.searched_by_staff",
            actor=user,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=f"reference {reference}: {error}",
            request=request,
        )
        return ReferenceFound(None, (), network_problem(error))
    found = tuple(token for token in answer.tokens if token.token_unique_reference == reference)
    record = _linked(reference, found, user) if found else None
    audit_event_record(
        action="token.searched_by_staff",
        actor=user,
        target=record,
        after={"found": len(found), "linked": record is not None},
        detail=f"reference {reference}",
        request=request,
    )
    return ReferenceFound(record, () if record else found)
