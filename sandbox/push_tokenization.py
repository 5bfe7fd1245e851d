"""A simulated requestor redeems a push receipt and MDES asks the issuer, when the sandbox knows the issuer's services.

The person's choice on the push page says what the wallet or merchant wants; the issuer's authorizeService
(source ACCOUNT_ADDED_VIA_APPLICATION, with the device and the wallet's assessment, as for a card typed in) says
what the network does with it:
- APPROVED: as the person chose (an active token for "Approve", notifyServiceActivated told to the issuer);
- DECLINED: the requestor returns DECLINED, no token;
- REQUIRE_ADDITIONAL_AUTHENTICATION: a token waiting for proof (status U). With completeWebsiteActivation=false
  (streamlined activation) the requestor runs no activation: it returns REQUIRE_ADDITIONAL_AUTHENTICATION with the
  token's reference and the issuer activates it. Otherwise the person goes through the activation methods the
  issuer returned (sandbox/wallet_pages.py) and the requestor returns once that is settled; with several cards in
  one redirect, those needing proof come back REQUIRE_ADDITIONAL_AUTHENTICATION (the sandbox walks only a single
  pushed card through the methods).
Without issuer services the person's choice alone decides, as before.
"""

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import requests

from sandbox.fixtures import SimulatedTokenRequestor
from sandbox.issuer_services import PUSH_SOURCE, Answer, CardData, Device, IssuerServicesClient, new_correlation_id
from sandbox.state import WalletEnrolment
from sandbox.state import current_state as state
from sandbox.tokens import new_token_unique_reference

# Choices on the push page that make the requestor tokenize with the receipt (and so MDES ask the issuer).
TOKENIZING_CHOICES = frozenset({"APPROVED", "REQUIRE_ADDITIONAL_AUTHENTICATION", "AUTHENTICATED", "DELETED"})
RAA = "REQUIRE_ADDITIONAL_AUTHENTICATION"


@dataclass(frozen=True)
class IssuerWord:
    """What the requestor returns for one receipt (`code`, with `|<reference>` when there is a token), or the
    enrolment the person must finish first."""

    code: str
    token_unique_reference: str | None = None
    enrolment: WalletEnrolment | None = None


def _card(receipt: str) -> CardData:
    sandbox_state = state()
    with sandbox_state.lock:
        record = sandbox_state.receipts[receipt]  # redeemed a moment ago
    month, year = record.expiry or ("", "")
    return CardData(record.account_number, month, year)


def _tokenize(receipt: str, code: str, reference: str, device: Device | None) -> str:
    token = state().tokenize(
        receipt,
        code,
        device_name=device.name if device else None,
        device_type=device.iso_type if device else None,
        token_unique_reference=reference,
    )
    return token.token_unique_reference


def _instance_id(trid: str, device: Device) -> str:
    """One payment app instance per requestor and device, as a real device keeps it."""
    return hashlib.sha256(f"{trid}/{device.name}".encode()).hexdigest()[:48]


def _ask(call: Any) -> Answer | None:
    try:
        answer: Answer = call()
    except requests.RequestException:
        return None
    return answer


def tokenize_with_issuer(
    client: IssuerServicesClient,
    receipt: str,
    choice: str,
    *,
    token_requestor: SimulatedTokenRequestor,
    device: Device | None,
    decisioning: dict[str, str] | None,
    complete_website_activation: bool,
    may_walk_through_methods: bool,
) -> IssuerWord:
    trid = token_requestor.trid
    card = _card(receipt)
    fields: dict[str, Any] = {
        "token_unique_reference": new_token_unique_reference(),
        "correlation_id": new_correlation_id(),
        "token_requestor_id": trid,
        "wallet_id": token_requestor.wallet_id or None,
        "device": device,
        "payment_app_instance_id": _instance_id(trid, device) if device else None,
        "consumer_facing_name": token_requestor.consumer_facing_name,
        "source": PUSH_SOURCE,
    }
    reference = fields["token_unique_reference"]
    answer = _ask(lambda: client.authorize_service(card, decisioning=decisioning, **fields))
    if answer is None or not answer.ok:
        return IssuerWord("ERROR")  # MDES could not get the issuer's decision: the tokenization fails
    decision = answer.body.get("decision")
    if decision == "APPROVED":
        made = _tokenize(receipt, choice, reference, device)
        if choice in ("APPROVED", "AUTHENTICATED"):
            _ask(
                lambda: client.notify_service_activated(
                    card,
                    token_unique_reference=reference,
                    correlation_id=fields["correlation_id"],
                    token_requestor_id=trid,
                    decision="APPROVED",
                    wallet_id=token_requestor.wallet_id or None,
                    device=device,
                )
            )
        return IssuerWord(choice, made)
    if decision != RAA:
        return IssuerWord("DECLINED")
    made = _tokenize(receipt, RAA, reference, device)
    if not complete_website_activation or not may_walk_through_methods:
        return IssuerWord(RAA, made)  # streamlined: the issuer activates it when the person is back
    methods = answer.body.get("activationMethods") or []
    if not methods:
        more = _ask(lambda: client.request_activation_methods(card, **fields))
        methods = more.body.get("activationMethods", []) if more is not None and more.ok else []
    enrolment = WalletEnrolment(
        id=secrets.token_urlsafe(16),
        trid=trid,
        card=card,
        device=device or Device("Web browser (sandbox)", "PC", "OTHER", "25"),
        token_unique_reference=made,
        correlation_id=fields["correlation_id"],
        payment_app_instance_id=fields["payment_app_instance_id"] or "",
        code_mode="issuer",
        decision=RAA,
        methods=[m for m in methods if isinstance(m, dict) and {"type", "value"} <= set(m)],
    )
    enrolment.status = "choose" if enrolment.methods else "failed"
    if not enrolment.methods:
        enrolment.message = "Your bank offered no way to confirm it is you."
    return IssuerWord(RAA, made, enrolment)


def enrolment_results(enrolment: WalletEnrolment) -> dict[str, str]:
    """What the requestor returns for the pushed card, by how its enrolment ends: added, declined by the bank, or
    failed (the token still waits for proof at the network)."""
    reference = enrolment.token_unique_reference
    return {"added": f"APPROVED|{reference}", "declined": "DECLINED", "failed": f"{RAA}|{reference}"}
