"""The simulated Click to Pay: what happens to a pushed receipt, and a checkout that lists a profile's cards.

A redirect to the Click to Pay requestor's push URI (checked like every requestor's, sandbox/token_requestor_pages.py)
opens this page instead of the generic one. *Add to Click to Pay* redeems the receipts as MDES would let Click to Pay:
the account holder data the issuer pushed with each account is released only when the tokenization decision is
APPROVED (the page's *Simulation* choice stands in for that decision) and erased from the receipt either way. Click to
Pay then shows exactly what it received, creates or extends the profile of the e-mail address it received, and
makes a token; the person goes back to the bank with `results[<receipt>]=APPROVED|<tokenUniqueReference>` (or the
other results of the guide). Without an e-mail address there is no profile to put the card in: that card is ERROR.

`GET /__sandbox__/click-to-pay/deliveries` tells a test what each receipt delivered; `/click-to-pay/checkout` is a
merchant's checkout where a person types their e-mail address and sees the cards of that profile.
"""

import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.fixtures import SimulatedTokenRequestor
from sandbox.merchant_records import (
    ACCOUNT_HOLDER_FIELDS,
    ClickToPayCard,
    ClickToPayDelivery,
    ClickToPayProfile,
    MerchantSession,
)
from sandbox.state import SandboxState
from sandbox.state import current_state as state
from sandbox.token_requestor_pages import (
    EXPERIENCE_PAGES,
    RedirectReading,
    allow_return_to,
    append_query,
    html_page,
    problem_page,
    receipt_hint,
    security_headers,
)

blueprint = Blueprint("click_to_pay", __name__)
blueprint.after_request(security_headers)

# The tokenization decision MDES would take (the issuer's, once the sandbox asks it): the page's simulation choice.
TOKENIZATION_DECISIONS = (
    ("APPROVED", "Approved (the bank sends your details)"),
    ("REQUIRE_ADDITIONAL_AUTHENTICATION", "Require additional authentication (no details released)"),
    ("DECLINED", "Declined"),
)
PRODUCTS = {"DMC": "Debit Mastercard", "MCC": "Mastercard", "MSI": "Maestro"}
KIND_LABELS = {
    "NAME": "Name",
    "EMAIL_ADDRESS": "E-mail address",
    "MOBILE_PHONE_NUMBER": "Mobile number",
    "ADDRESS": "Billing address",
}
CARD_ART = {"Debit Mastercard": "debit", "Mastercard": "credit", "Maestro": "maestro"}  # CSS classes of the tiles
CARD_STATES = {"A": "Ready to use", "S": "Suspended by your bank", "U": "Waiting for your bank"}


def start_page(token_requestor: SimulatedTokenRequestor, reading: RedirectReading, lang: str) -> Response:
    sandbox_state = state()
    session = MerchantSession(
        id=secrets.token_urlsafe(24),
        trid=token_requestor.trid,
        receipts=reading.receipts,
        callback_url=reading.callback_url,
        data_supplied=reading.values.get("accountHolderDataSupplied") == "true",
    )
    with sandbox_state.lock:
        sandbox_state.merchants.sessions[session.id] = session
    allow_return_to(session.callback_url)
    cards = []
    for receipt in session.receipts:
        record = sandbox_state.receipt(receipt)
        cards.append({"hint": receipt_hint(receipt), "suffix": record.account_suffix if record else "????"})
    return html_page(
        "c2p_start.html",
        token_requestor=token_requestor,
        session=session,
        cards=cards,
        decisions=TOKENIZATION_DECISIONS,
        lang=lang,
    )


EXPERIENCE_PAGES["click_to_pay"] = start_page


def _take_session(session_id: str) -> MerchantSession | None:
    sandbox_state = state()
    with sandbox_state.lock:
        session = sandbox_state.merchants.sessions.pop(session_id, None)
    if session is None or (requestor := sandbox_state.token_requestor(session.trid)) is None:
        return None
    return session if requestor.experience == "click_to_pay" else None


def _profile_add(sandbox_state: SandboxState, data: dict[str, Any], card: ClickToPayCard) -> ClickToPayProfile | None:
    email = data.get("accountHolderEmailAddress")
    if not isinstance(email, str) or not email:
        return None
    key = email.strip().lower()
    with sandbox_state.lock:
        profile = sandbox_state.merchants.profiles.get(key)
        if profile is None:
            profile = ClickToPayProfile(email=key, name=None, mobile=None)
            sandbox_state.merchants.profiles[key] = profile
        # The issuer's latest details win, as when a returning consumer adds another card.
        profile.name = data.get("accountHolderName") or profile.name
        profile.mobile = data.get("accountHolderMobilePhoneNumber") or profile.mobile
        profile.cards.append(card)
    return profile


def _enrol(
    sandbox_state: SandboxState, session: MerchantSession, receipt: str, decision: str, data: Any
) -> tuple[str, ClickToPayDelivery]:
    """One receipt's enrolment: (result for the callback, delivery)."""
    record = sandbox_state.receipt(receipt)
    suffix = record.account_suffix if record else "????"
    token_reference, profile_email, result = None, None, decision
    if decision == "REQUIRE_ADDITIONAL_AUTHENTICATION":
        token = sandbox_state.tokenize(receipt, decision, device_name=None, device_type=None)
        token_reference = token.token_unique_reference
    elif decision == "APPROVED":
        if isinstance(data, dict) and data.get("accountHolderEmailAddress"):
            token = sandbox_state.tokenize(receipt, decision, device_name=None, device_type=None)
            token_reference = token.token_unique_reference
            card = ClickToPayCard(
                token_unique_reference=token_reference,
                account_suffix=suffix,
                product=PRODUCTS.get(receipt[:3], "Mastercard"),
                issuer_trid=session.trid,
                added_at=sandbox_state.now(),
            )
            profile = _profile_add(sandbox_state, data, card)
            profile_email = profile.email if profile else None
        else:
            result = "ERROR"  # no e-mail address: no Click to Pay profile to put the card in
    delivery = ClickToPayDelivery(
        receipt=receipt,
        trid=session.trid,
        tokenization_decision=decision,
        account_holder_data=data if isinstance(data, dict) else None,
        result=result,
        token_unique_reference=token_reference,
        profile_email=profile_email,
        at=sandbox_state.now(),
    )
    with sandbox_state.lock:
        sandbox_state.merchants.deliveries.append(delivery)
    return (f"{result}|{token_reference}" if token_reference else result), delivery


def _received(delivery: ClickToPayDelivery) -> list[dict[str, Any]]:
    """Each kind of account holder data, with exactly what arrived (None: not received)."""
    data = delivery.account_holder_data or {}
    rows = []
    for kind, name in ACCOUNT_HOLDER_FIELDS.items():
        value = data.get(name)
        if isinstance(value, dict) and kind == "MOBILE_PHONE_NUMBER":
            value = f"+{value.get('countryDialInCode', '')} {value.get('phoneNumber', '')}"
        elif isinstance(value, dict):
            parts = ("line1", "line2", "city", "countrySubdivision", "postalCode", "country")
            value = ", ".join(str(value[part]) for part in parts if value.get(part))
        rows.append({"kind": kind, "label": KIND_LABELS[kind], "value": value})
    return rows


@blueprint.post("/click-to-pay/enrol")
def enrol() -> Response:
    sandbox_state = state()
    session = _take_session(request.form.get("session", ""))
    token_requestor = sandbox_state.token_requestor(session.trid) if session else None
    if session is None or token_requestor is None:
        return problem_page(None, ["This page was already submitted, or it was never opened."], 409)
    action, decision = request.form.get("action", ""), request.form.get("tokenization", "APPROVED")
    if action not in ("enrol", "cancel") or decision not in dict(TOKENIZATION_DECISIONS):
        return problem_page(token_requestor, ["The form was submitted with an unknown choice."], 400)
    wanted = {receipt: ("CANCELLED" if action == "cancel" else decision) for receipt in session.receipts}
    problems, released = sandbox_state.redeem_releasing(wanted, session.trid)
    if problems:
        errors = [(f"results[{receipt}]", "ERROR") for receipt in session.receipts]
        return_url = append_query(session.callback_url, errors) if session.callback_url else None
        why = "; ".join(f"receipt {receipt_hint(r)} is {problem}" for r, problem in problems.items())
        return problem_page(
            token_requestor, [f"Click to Pay cannot use this request: {why}."], 409, return_url=return_url
        )
    if action == "cancel":
        values = dict(wanted)
        if session.callback_url:
            target = append_query(session.callback_url, [(f"results[{r}]", v) for r, v in values.items()])
            return Response(status=303, headers={"Location": target})
        return html_page(
            "c2p_received.html", token_requestor=token_requestor, cards=[], return_url=None, cancelled=True
        )
    values, cards = {}, []
    for receipt in session.receipts:
        values[receipt], delivery = _enrol(sandbox_state, session, receipt, decision, released.get(receipt))
        record = sandbox_state.receipt(receipt)
        cards.append(
            {
                "suffix": record.account_suffix if record else "????",
                "delivery": delivery,
                "received": _received(delivery),
                "data_supplied": session.data_supplied,
            }
        )
    return_url = (
        append_query(session.callback_url, [(f"results[{r}]", v) for r, v in values.items()])
        if session.callback_url
        else None
    )
    return html_page(
        "c2p_received.html", token_requestor=token_requestor, cards=cards, return_url=return_url, cancelled=False
    )


def _profile_cards(sandbox_state: SandboxState, profile: ClickToPayProfile) -> list[dict[str, str]]:
    """The profile's cards as a checkout shows them: the network's current status, deleted tokens left out."""
    cards = []
    for card in profile.cards:
        token = sandbox_state.token(card.token_unique_reference)
        if token is None or token.status == "D":
            continue
        cards.append(
            {
                "product": card.product,
                "suffix": card.account_suffix,
                "art": CARD_ART.get(card.product, "credit"),
                "state": CARD_STATES.get(token.status, token.status),
                "usable": "yes" if token.status == "A" else "no",
            }
        )
    return cards


@blueprint.route("/click-to-pay/checkout", methods=["GET", "POST"])
def checkout() -> Response:
    """A merchant's Click to Pay checkout: the e-mail address finds the profile and its cards."""
    sandbox_state = state()
    if request.method == "GET":
        return html_page("c2p_checkout.html", email="", profile=None, cards=[], searched=False)
    email = request.form.get("email", "").strip()
    if not email or len(email) > 320:
        return html_page(
            "c2p_checkout.html", 400, email="", profile=None, cards=[], searched=False, problem="Enter your e-mail."
        )
    with sandbox_state.lock:
        profile = sandbox_state.merchants.profiles.get(email.lower())
    cards = _profile_cards(sandbox_state, profile) if profile else []
    return html_page("c2p_checkout.html", email=email, profile=profile, cards=cards, searched=True)


@blueprint.get("/__sandbox__/click-to-pay/deliveries")
def deliveries() -> Response:
    """What each Click to Pay receipt delivered (the account holder data exactly as released, and the result)."""
    sandbox_state = state()
    with sandbox_state.lock:
        found = [delivery.to_json() for delivery in sandbox_state.merchants.deliveries]
    return jsonify({"deliveries": found})


@blueprint.get("/__sandbox__/click-to-pay/profiles")
def profiles() -> Response:
    sandbox_state = state()
    with sandbox_state.lock:
        found = list(sandbox_state.merchants.profiles.values())
    return jsonify(
        {
            "profiles": [
                {
                    "email": profile.email,
                    "name": profile.name,
                    "mobile": profile.mobile,
                    "cards": _profile_cards(sandbox_state, profile),
                }
                for profile in found
            ]
        }
    )
