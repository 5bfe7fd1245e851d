"""The network's word on a push's outcome: what the browser reported is checked against MDES's token records.

A callback is unauthenticated browser input: a cardholder whose wallet answered CANCELLED can open the callback URL
with APPROVED first. So a result read from a callback is only *reported*; the portal asks the Customer Service API
which tokens the card has at that token requestor and keeps the network's answer as the outcome. A reported outcome
the network contradicts is corrected and audited (`push.outcome_contradicted`).

What the network says of the card's tokens at that requestor is kept as the card's token records
(provisioning.tokens). The check runs at the callback with a short timeout; when MDES cannot answer then, the
periodic sweep (`receipt_network_checks_due`) tries again with backoff and, after the last attempt, records that it
could not check. A configuration the portal cannot use ends the check at once.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders import vault
from provisioning.mdes.customer_service import CustomerServiceClient
from provisioning.mdes.customer_service_types import Token
from provisioning.mdes.errors import MdesConfigurationError, MdesError
from provisioning.models import NetworkCheck, PushReceipt
from provisioning.tokens import (
    card_tokens_listed,
    card_tokens_record,
    cardholder_reference,
    customer_service_client,
    self_service_audit,
)

logger = logging.getLogger(__name__)

Result = PushReceipt.Result
# What each reported result claims about the card at the requestor: there (a live token), waiting for more
# verification (an inactive token), or not there.
_CLAIMS_THERE = {Result.APPROVED, Result.DUPLICATE_REQUEST, Result.AUTHENTICATED}
_CLAIMS_PENDING = {Result.REQUIRE_ADDITIONAL_AUTHENTICATION}


def _network_result(reported: str, tokens: Iterable[Token]) -> str:
    """The outcome the network's tokens bear out, keeping the reported wording where it agrees."""
    statuses = {token.status for token in tokens}
    if statuses & {"A", "S"}:
        return reported if reported in _CLAIMS_THERE else Result.APPROVED
    if "U" in statuses:
        return Result.REQUIRE_ADDITIONAL_AUTHENTICATION
    if reported in _CLAIMS_THERE | _CLAIMS_PENDING or reported == Result.UNKNOWN:
        return Result.NOT_ADDED
    return reported  # declined, cancelled, error, deleted: no token is what they say


def _tokens_of_card(client: CustomerServiceClient, receipt: PushReceipt) -> tuple[list[Token], bool]:
    """What the network says of the receipt's card: the token the callback named, or every token of the card
    (then True: the whole card was listed). Tokens of another card (a made-up reference) are left out."""
    push = receipt.push
    audit = self_service_audit(cardholder_reference(cardholder_id=push.cardholder_id, push_public_id=push.public_id))
    if receipt.token_unique_reference:
        found = client.search_by_token_unique_reference(receipt.token_unique_reference, audit=audit).tokens
        whole_card = False
    else:
        number = vault.card_account_data(receipt.card)["accountNumber"]  # goes only into the encrypted search
        found = client.search_by_account_number(number, audit=audit).tokens
        whole_card = True
    last_four = receipt.card.last_four
    return [t for t in found if t.account_pan_suffix is None or t.account_pan_suffix == last_four], whole_card


def receipt_network_check(receipt: PushReceipt, *, quick: bool = False) -> str:
    """Check one used receipt's reported result with the network; returns its NetworkCheck afterwards. `quick`:
    a cardholder is waiting (the callback), so MDES gets a short timeout and the sweep tries again later."""
    receipt.network_check_attempts += 1
    try:
        card_tokens, whole_card = _tokens_of_card(customer_service_client(quick=quick), receipt)
    except (MdesError, ValueError) as error:
        # A configuration the portal cannot use (keys, an audit identity MDES would refuse) will not mend itself
        # between attempts: it ends the check at once, loudly; an unavailable network is asked again later.
        misconfigured = isinstance(error, MdesConfigurationError | ValueError)
        log = logger.error if misconfigured else logger.warning
        log("Network check of receipt %s failed: %s", receipt.pk, type(error).__name__)
        final = misconfigured or receipt.network_check_attempts >= settings.PROVISIONING_NETWORK_CHECK_ATTEMPTS
        receipt.network_check = NetworkCheck.UNCHECKED if final else NetworkCheck.PENDING
        receipt.save(update_fields=["network_check", "network_check_attempts"])
        if final:
            audit_event_record(
                action="push.outcome_unchecked",
                target=receipt,
                outcome=AuditEvent.Outcome.FAILURE,
                detail=(
                    f"The network cannot be asked: {error}"
                    if misconfigured
                    else f"The network could not be asked after {receipt.network_check_attempts} attempts"
                ),
            )
        return receipt.network_check
    card_tokens_record(receipt.card, card_tokens)
    if whole_card:
        card_tokens_listed(receipt.card)
    trid = receipt.push.token_requestor.trid
    tokens = [token for token in card_tokens if token.token_requestor_id == trid]
    reported = receipt.reported_result or receipt.result
    confirmed = _network_result(reported, tokens)
    before = receipt.result
    receipt.result = confirmed
    receipt.network_check = NetworkCheck.CONFIRMED if confirmed == reported else NetworkCheck.CORRECTED
    receipt.network_checked_at = timezone.now()
    if receipt.token_unique_reference is None and len(tokens) == 1:
        receipt.token_unique_reference = tokens[0].token_unique_reference
    receipt.save(
        update_fields=[
            "result",
            "network_check",
            "network_checked_at",
            "network_check_attempts",
            "token_unique_reference",
        ]
    )
    if receipt.network_check == NetworkCheck.CORRECTED:
        audit_event_record(
            action="push.outcome_contradicted",
            target=receipt,
            outcome=AuditEvent.Outcome.FAILURE,
            before={"result": before, "reported": reported},
            after={"result": confirmed},
            detail="The browser reported an outcome the network's token records contradict",
        )
    return receipt.network_check


def receipt_network_checks_due(*, limit: int = 200) -> int:
    """Try again the checks MDES could not answer, with exponential backoff between attempts. Returns how many ran."""
    now = timezone.now()
    base = settings.PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS
    due = [
        receipt
        for receipt in PushReceipt.objects.filter(network_check=NetworkCheck.PENDING)
        .select_related("push__token_requestor", "push__cardholder", "card")
        .order_by("used_at")[:limit]
        if receipt.used_at is None
        or receipt.used_at + timedelta(seconds=base * 2 ** max(receipt.network_check_attempts - 1, 0)) <= now
    ]
    for receipt in due:
        receipt_network_check(receipt)
    return len(due)
