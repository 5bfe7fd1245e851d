"""Streamlined activation: the portal activates the token of a push it sent with completeWebsiteActivation=false.

Such a push comes back REQUIRE_ADDITIONAL_AUTHENTICATION with a token awaiting the cardholder's proof (status U);
the wallet ran no activation of its own. The cardholder passed the portal's second factor before the push, so the
portal activates the token through the Customer Service API (reason A, as the cardholder's own act through their
push: `TokenActor.pusher`) and the card is added.

Only the network's word starts it: the receipt's outcome once the Customer Service API confirmed it (a token of
this card at this requestor), never the callback alone. When the activation fails or its answer is lost, the
receipt stays due and the minutely sweep (`streamlined_activations_due`) asks the network again and retries, with
backoff, PROVISIONING_NETWORK_CHECK_ATTEMPTS times in all; then it gives up, audited, and the page says to call.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_record
from provisioning.mdes.errors import MdesError
from provisioning.models import CardToken, NetworkCheck, PushReceipt
from provisioning.tokens import (
    TokenActor,
    TokenChangeRefused,
    TokenChangeUnknown,
    card_tokens_record,
    cardholder_reference,
    customer_service_client,
    self_service_audit,
    token_activate,
)

logger = logging.getLogger(__name__)

Activation = PushReceipt.Activation
_CHECKED = (NetworkCheck.CONFIRMED, NetworkCheck.CORRECTED)


def receipt_activation_start(receipt: PushReceipt) -> None:
    """At the callback, after the network check: a streamlined push reported as awaiting the cardholder's proof
    becomes the portal's to activate, at once if the network has confirmed the token, else after its check."""
    if (
        not receipt.push.streamlined_activation
        or receipt.activation != Activation.NONE
        or receipt.reported_result != PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION
    ):
        return
    if receipt.network_check in _CHECKED and receipt.result != PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION:
        return  # the network says otherwise (added already, or nothing there): its word stands
    receipt.activation = Activation.DUE
    receipt.save(update_fields=["activation"])
    if receipt.network_check in _CHECKED:
        _attempt(receipt, ask_network=False)


def _token_of_receipt(receipt: PushReceipt) -> CardToken | None:
    """The token the push made, as the portal's records (from the network) hold it."""
    tokens = CardToken.objects.filter(card=receipt.card, trid=receipt.push.token_requestor.trid)
    if receipt.token_unique_reference:
        return tokens.filter(token_unique_reference=receipt.token_unique_reference).first()
    waiting = list(tokens.filter(status=CardToken.Status.IN_PROGRESS)[:2])
    return waiting[0] if len(waiting) == 1 else None


def _network_word(receipt: PushReceipt, token: CardToken) -> CardToken:
    """The token as the network describes it now: a lost answer may have activated it after all."""
    push = receipt.push
    audit = self_service_audit(cardholder_reference(cardholder_id=push.cardholder_id, push_public_id=push.public_id))
    reference = token.token_unique_reference
    found = customer_service_client().search_by_token_unique_reference(reference, audit=audit)
    card_tokens_record(receipt.card, [t for t in found.tokens if t.token_unique_reference == reference])
    token.refresh_from_db()
    return token


def _attempt(receipt: PushReceipt, *, ask_network: bool) -> None:
    if receipt.activation_attempts == 0 and receipt.result != PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION:
        # The network's check, made after the callback, found no token awaiting proof: nothing to activate.
        receipt.activation = Activation.NONE
        receipt.save(update_fields=["activation"])
        return
    receipt.activation_attempts += 1
    token = _token_of_receipt(receipt)
    failure = ""
    try:
        if token is not None and ask_network:
            token = _network_word(receipt, token)
        if token is not None and token.status == CardToken.Status.IN_PROGRESS and token.is_live:
            token = token_activate(token, actor=TokenActor.pusher(receipt.push))
    except (TokenChangeRefused, TokenChangeUnknown, MdesError) as error:
        failure = f"{type(error).__name__}: {error}"
    if token is None or not token.is_live:
        _give_up(receipt, "The network has no live token of this push to activate")
        return
    if token.status in (CardToken.Status.ACTIVE, CardToken.Status.SUSPENDED):
        _done(receipt, token)
        return
    if receipt.activation_attempts >= settings.PROVISIONING_NETWORK_CHECK_ATTEMPTS:
        _give_up(receipt, failure or "The token is still awaiting activation")
        return
    logger.warning("Streamlined activation of receipt %s not finished: %s", receipt.pk, failure or "still waiting")
    receipt.token_unique_reference = token.token_unique_reference
    receipt.save(update_fields=["activation_attempts", "token_unique_reference"])


def _done(receipt: PushReceipt, token: CardToken) -> None:
    before = receipt.result
    receipt.activation = Activation.DONE
    receipt.result = PushReceipt.Result.APPROVED
    receipt.token_unique_reference = token.token_unique_reference
    receipt.save(update_fields=["activation", "activation_attempts", "result", "token_unique_reference"])
    audit_event_record(
        action="push.activated",
        target=receipt,
        before={"result": before, "activation": Activation.DUE},
        after={"result": receipt.result, "activation": receipt.activation},
        detail="Streamlined activation: the cardholder passed the second factor before the push",
    )


def _give_up(receipt: PushReceipt, why: str) -> None:
    receipt.activation = Activation.FAILED
    receipt.save(update_fields=["activation", "activation_attempts"])
    logger.error("Streamlined activation of receipt %s failed: %s", receipt.pk, why)
    audit_event_record(
        action="push.activation_failed",
        target=receipt,
        outcome=AuditEvent.Outcome.FAILURE,
        before={"activation": Activation.DUE},
        after={"activation": Activation.FAILED, "attempts": receipt.activation_attempts},
        detail=why[:500],
    )


def streamlined_activations_due(*, limit: int = 200) -> int:
    """Retry, with backoff, the activations the callback could not finish; those whose outcome the network never
    confirmed are given up. Returns how many receipts were looked at."""
    now = timezone.now()
    base = settings.PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS
    receipts = (
        PushReceipt.objects.filter(activation=Activation.DUE)
        .filter(Q(network_check__in=_CHECKED) | Q(network_check=NetworkCheck.UNCHECKED))
        .select_related("push__token_requestor", "push__cardholder__user", "card")
        .order_by("used_at")[:limit]
    )
    looked_at = 0
    for receipt in receipts:
        if receipt.network_check == NetworkCheck.UNCHECKED:
            _give_up(receipt, "The network never confirmed the push's outcome")
        elif _retry_due(receipt, now, base):
            _attempt(receipt, ask_network=receipt.activation_attempts > 0)
        else:
            continue
        looked_at += 1
    return looked_at


def _retry_due(receipt: PushReceipt, now: datetime, base: int) -> bool:
    if receipt.activation_attempts == 0 or receipt.used_at is None:
        return True  # the network confirmed the outcome only after the callback
    return receipt.used_at + timedelta(seconds=base * 2 ** (receipt.activation_attempts - 1)) <= now
