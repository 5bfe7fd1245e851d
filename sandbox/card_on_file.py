"""A simulated Secure Card on File merchant: it saves a pushed card from its receipt and may then check, with a code
from the bank, that the person saving it is the cardholder (post-tokenization authentication, mdes-beyond-the-push.md
sections 1.5 and 2.5).

- The push page (sandbox/token_requestor_pages.py checks the redirect) offers an optional sign-in or sign-up (an
  e-mail address) and whether the merchant asks for a code; *Cancel* returns CANCELLED.
- *Save card* redeems the receipt the SCOF way: the Enroll Card call with the receipt as enrolment reference, here the
  sandbox's tokenization from the receipt (an active card-on-file token). MDES releases the account holder data the
  merchant accepts, as for every APPROVED tokenization.
- Without the check: APPROVED|<tokenUniqueReference>.
- With it, the code comes through the issuer: when the sandbox knows the issuer's services, its MDES asks
  authorizeService (source ACCOUNT_ADDED_VIA_APPLICATION; DECLINED ends it: no token, DECLINED), takes a text or
  e-mail method from the answer (or from requestActivationMethods), sends deliverActivationCode and checks the code
  with validateActivationCode; otherwise the sandbox makes a 6-digit code itself and puts it in the demo inbox. Three
  tries, 15 minutes. Success: AUTHENTICATED|<reference> (and notifyServiceActivated to the issuer). Wrong codes,
  an expired code (*Simulation: the code expires*) or *Cancel* on the code page: the merchant deletes the token
  (and MDES tells the issuer, notifyTokenUpdated): DELETED|<reference>.

One card per visit: the merchant saves the first receipt (a single-card requestor gets only one).
"""

import hmac
import secrets
from datetime import timedelta
from typing import Any

import requests
from flask import Blueprint, Response, abort, jsonify, request, url_for

from sandbox.fixtures import SimulatedTokenRequestor
from sandbox.issuer_services import PUSH_SOURCE, Answer, CardData, new_correlation_id
from sandbox.merchant_records import CardOnFileEnrolment, MerchantSession
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
from sandbox.tokens import new_token_unique_reference

blueprint = Blueprint("card_on_file", __name__)
blueprint.after_request(security_headers)

MAX_ATTEMPTS = 3
CODE_METHODS = ("TEXT_TO_CARDHOLDER_NUMBER", "EMAIL_TO_CARDHOLDER_ADDRESS")
METHOD_LABELS = {
    "TEXT_TO_CARDHOLDER_NUMBER": "a text message to {value}",
    "EMAIL_TO_CARDHOLDER_ADDRESS": "an e-mail to {value}",
}
AUTHENTICATION_CHOICES = (
    ("code", "Yes: the merchant asks for a code from your bank"),
    ("none", "No: save the card without a check"),
)


def _return(callback_url: str | None, receipt: str, value: str, token_requestor: SimulatedTokenRequestor) -> Response:
    if callback_url:
        return Response(status=303, headers={"Location": append_query(callback_url, [(f"results[{receipt}]", value)])})
    summary = [{"hint": receipt_hint(receipt), "result": value.partition("|")[0]}]
    return html_page("tr_done.html", token_requestor=token_requestor, results=summary, lang="en")


def start_page(token_requestor: SimulatedTokenRequestor, reading: RedirectReading, lang: str) -> Response:
    sandbox_state = state()
    receipt = reading.receipts[0]
    session = MerchantSession(
        id=secrets.token_urlsafe(24),
        trid=token_requestor.trid,
        receipts=(receipt,),
        callback_url=reading.callback_url,
        data_supplied=reading.values.get("accountHolderDataSupplied") == "true",
    )
    with sandbox_state.lock:
        sandbox_state.merchants.sessions[session.id] = session
    allow_return_to(session.callback_url)
    record = sandbox_state.receipt(receipt)
    return html_page(
        "cof_start.html",
        token_requestor=token_requestor,
        session=session,
        suffix=record.account_suffix if record else "????",
        choices=AUTHENTICATION_CHOICES,
        lang=lang,
    )


EXPERIENCE_PAGES["card_on_file"] = start_page


def _take_session(session_id: str) -> MerchantSession | None:
    sandbox_state = state()
    with sandbox_state.lock:
        session = sandbox_state.merchants.sessions.pop(session_id, None)
    requestor = sandbox_state.token_requestor(session.trid) if session else None
    return session if requestor is not None and requestor.experience == "card_on_file" else None


def _card(sandbox_state: SandboxState, receipt: str) -> CardData | None:
    """The card as MDES holds it from the push (number and expiry), for its calls to the issuer."""
    record = sandbox_state.receipt(receipt)
    if record is None or record.expiry is None:
        return None
    return CardData(record.account_number, *record.expiry)


def _code_methods(answer: Answer) -> list[dict[str, str]]:
    methods = answer.body.get("activationMethods") or []
    found = [m for m in methods if isinstance(m, dict) and m.get("type") in CODE_METHODS and m.get("value")]
    return sorted(found, key=lambda method: CODE_METHODS.index(method["type"]))


def _ask_issuer(enrolment: CardOnFileEnrolment, card: CardData, token_requestor: SimulatedTokenRequestor) -> str:
    """authorizeService, then deliverActivationCode: the issuer's decision, or "" when the code is on its way.
    Unreachable or refusing services, or no method to send a code by, leave a message and "DELETED"."""
    client = state().issuer_client()
    if client is None:
        raise RuntimeError("only called when the issuer's services are known")
    fields: dict[str, Any] = {
        "token_unique_reference": enrolment.token_unique_reference,
        "correlation_id": enrolment.correlation_id,
        "token_requestor_id": enrolment.trid,
        "source": PUSH_SOURCE,
        "consumer_facing_name": token_requestor.consumer_facing_name,
    }
    try:
        answer = client.authorize_service(card, **fields)
        if not answer.ok:
            enrolment.message = f"Your bank's services answered {answer.status}."
            return "DELETED"
        enrolment.issuer_decision = str(answer.body.get("decision", ""))
        if enrolment.issuer_decision == "DECLINED":
            return "DECLINED"
        methods = _code_methods(answer)
        if not methods:
            more = client.request_activation_methods(card, **fields)
            methods = _code_methods(more) if more.ok else []
        if not methods:
            enrolment.message = "Your bank offered no way to send a code."
            return "DELETED"
        enrolment.method = {"type": methods[0]["type"], "value": methods[0]["value"]}
        delivered = client.deliver_activation_code(
            token_unique_reference=enrolment.token_unique_reference,
            correlation_id=enrolment.correlation_id,
            method=enrolment.method,
        )
    except requests.RequestException:
        enrolment.message = "Your bank's services could not be reached."
        return "DELETED"
    if not delivered.ok:
        enrolment.message = "Your bank could not send the code."
        return "DELETED"
    return ""


def _sandbox_code(sandbox_state: SandboxState, enrolment: CardOnFileEnrolment, merchant: str) -> None:
    """No issuer's services to ask: the sandbox plays the bank and sends its own code to the demo inbox."""
    enrolment.sandbox_code = f"{secrets.randbelow(10**6):06d}"
    enrolment.code_expires_at = sandbox_state.now() + timedelta(minutes=sandbox_state.config.activation_code_minutes)
    enrolment.method = {"type": "TEXT_TO_CARDHOLDER_NUMBER", "value": "the demo inbox"}
    sandbox_state.add_message(
        channel="sms",
        to=f"Card ending {enrolment.account_suffix}",
        subject=f"{merchant}: confirm your card",
        body=(
            f"Your code to confirm your card ending {enrolment.account_suffix} at {merchant} is "
            f"{enrolment.sandbox_code}. It expires in {sandbox_state.config.activation_code_minutes} minutes."
        ),
    )


@blueprint.post("/card-on-file/save")
def save() -> Response:
    sandbox_state = state()
    session = _take_session(request.form.get("session", ""))
    token_requestor = sandbox_state.token_requestor(session.trid) if session else None
    if session is None or token_requestor is None:
        return problem_page(None, ["This page was already submitted, or it was never opened."], 409)
    action, authentication = request.form.get("action", ""), request.form.get("authentication", "")
    account = request.form.get("account", "").strip()[:320] or None
    if action not in ("save", "cancel") or authentication not in dict(AUTHENTICATION_CHOICES):
        return problem_page(token_requestor, ["The form was submitted with an unknown choice."], 400)
    (receipt,) = session.receipts
    problems, released = sandbox_state.redeem_releasing(
        {receipt: "CANCELLED" if action == "cancel" else "APPROVED"}, session.trid
    )
    if problems:
        return_url = (
            append_query(session.callback_url, [(f"results[{receipt}]", "ERROR")]) if session.callback_url else None
        )
        why = f"receipt {receipt_hint(receipt)} is {problems[receipt]}"
        return problem_page(token_requestor, [f"The card cannot be saved: {why}."], 409, return_url=return_url)
    if action == "cancel":
        return _return(session.callback_url, receipt, "CANCELLED", token_requestor)
    record = sandbox_state.receipt(receipt)
    enrolment = CardOnFileEnrolment(
        id=secrets.token_urlsafe(16),
        trid=session.trid,
        receipt=receipt,
        callback_url=session.callback_url,
        token_unique_reference=new_token_unique_reference(),
        account_suffix=record.account_suffix if record else "????",
        account=account or released.get(receipt, {}).get("accountHolderEmailAddress"),
        authentication=authentication,
        correlation_id=new_correlation_id(),
    )
    card = _card(sandbox_state, receipt)
    outcome = ""
    if authentication == "code" and card is not None and sandbox_state.issuer_client() is not None:
        enrolment.code_origin = "issuer"
        outcome = _ask_issuer(enrolment, card, token_requestor)
        if outcome == "DECLINED":
            enrolment.status = "declined"
            _remember(sandbox_state, enrolment)
            _set_result(sandbox_state, receipt, "DECLINED")
            return _return(session.callback_url, receipt, "DECLINED", token_requestor)
    token = sandbox_state.tokenize(
        receipt, "APPROVED", device_name=None, device_type=None, token_unique_reference=enrolment.token_unique_reference
    )
    _remember(sandbox_state, enrolment)
    if authentication == "none":
        return _return(session.callback_url, receipt, f"APPROVED|{token.token_unique_reference}", token_requestor)
    if enrolment.code_origin == "issuer" and outcome == "DELETED":
        return _finish(enrolment, "deleted")
    if enrolment.code_origin != "issuer":
        enrolment.code_origin = "sandbox"
        _sandbox_code(sandbox_state, enrolment, token_requestor.consumer_facing_name)
    enrolment.status = "code"
    return Response(status=303, headers={"Location": url_for("card_on_file.enrolment_page", enrolment_id=enrolment.id)})


def _remember(sandbox_state: SandboxState, enrolment: CardOnFileEnrolment) -> None:
    with sandbox_state.lock:
        sandbox_state.merchants.card_on_file[enrolment.id] = enrolment


def _set_result(sandbox_state: SandboxState, receipt: str, result: str) -> None:
    with sandbox_state.lock:
        record = sandbox_state.receipts.get(receipt)
        if record is not None:
            record.result = result


def _enrolment(enrolment_id: str) -> CardOnFileEnrolment:
    sandbox_state = state()
    with sandbox_state.lock:
        enrolment = sandbox_state.merchants.card_on_file.get(enrolment_id)
    if enrolment is None:
        abort(404)
    return enrolment


def _tell_issuer(enrolment: CardOnFileEnrolment, card: CardData | None) -> None:
    """What MDES tells the issuer once the merchant has decided: the token active (notifyServiceActivated) or deleted
    (notifyTokenUpdated). Only when the issuer was asked about this token; a failure to tell it changes nothing."""
    client = state().issuer_client() if enrolment.code_origin == "issuer" else None
    if client is None or card is None:
        return
    try:
        if enrolment.status == "authenticated":
            client.notify_service_activated(
                card,
                token_unique_reference=enrolment.token_unique_reference,
                correlation_id=enrolment.correlation_id,
                token_requestor_id=enrolment.trid,
                decision=enrolment.issuer_decision or "REQUIRE_ADDITIONAL_AUTHENTICATION",
                activation_attempts=max(1, enrolment.attempts),
            )
        else:
            client.notify_token_updated(token_unique_reference=enrolment.token_unique_reference, status="DEACTIVATED")
    except requests.RequestException:
        enrolment.message = "The card network could not tell your bank."


def _finish(enrolment: CardOnFileEnrolment, status: str) -> Response:
    """Authenticated, or the merchant deletes the token (failed, expired, cancelled); then back to the bank."""
    sandbox_state = state()
    enrolment.status = status
    if status == "deleted":
        with sandbox_state.lock:
            token = sandbox_state.tokens.get(enrolment.token_unique_reference)
            if token is not None and token.status != "D":
                token.change("D", sandbox_state.now(), "W")
    _set_result(sandbox_state, enrolment.receipt, enrolment.result)
    _tell_issuer(enrolment, _card(sandbox_state, enrolment.receipt))
    token_requestor = sandbox_state.token_requestor(enrolment.trid)
    if token_requestor is None:
        abort(404)
    value = f"{enrolment.result}|{enrolment.token_unique_reference}"
    return _return(enrolment.callback_url, enrolment.receipt, value, token_requestor)


@blueprint.get("/card-on-file/enrolments/<enrolment_id>")
def enrolment_page(enrolment_id: str) -> Response:
    enrolment = _enrolment(enrolment_id)
    if enrolment.status != "code":
        abort(404)
    allow_return_to(enrolment.callback_url)
    method = enrolment.method or {}
    label = METHOD_LABELS.get(method.get("type", ""), "{value}").format(value=method.get("value", ""))
    return html_page(
        "cof_code.html",
        enrolment=enrolment,
        token_requestor=state().token_requestor(enrolment.trid),
        sent_by=label,
        attempts_left=MAX_ATTEMPTS - enrolment.attempts,
    )


def _check_sandbox_code(enrolment: CardOnFileEnrolment, code: str) -> str:
    if enrolment.code_expires_at is None or enrolment.code_expires_at <= state().now():
        return "EXPIRED_CODE"
    enrolment.attempts += 1
    if hmac.compare_digest(code, enrolment.sandbox_code or ""):
        return "SUCCESS"
    return "INCORRECT_CODE_RETRIES_EXCEEDED" if enrolment.attempts >= MAX_ATTEMPTS else "INCORRECT_CODE"


def _check_with_issuer(enrolment: CardOnFileEnrolment, code: str) -> str:
    client = state().issuer_client()
    if client is None:
        return "UNAVAILABLE"
    try:
        answer = client.validate_activation_code(
            token_unique_reference=enrolment.token_unique_reference, correlation_id=enrolment.correlation_id, code=code
        )
    except requests.RequestException:
        return "UNAVAILABLE"
    if not answer.ok:
        return "UNAVAILABLE"
    enrolment.attempts += 1
    return str(answer.body.get("result", ""))


@blueprint.post("/card-on-file/enrolments/<enrolment_id>")
def enter_code(enrolment_id: str) -> Response:
    enrolment = _enrolment(enrolment_id)
    back = Response(status=303, headers={"Location": url_for("card_on_file.enrolment_page", enrolment_id=enrolment.id)})
    if enrolment.status != "code":
        return back
    action = request.form.get("action", "")
    if action == "cancel":
        enrolment.message = "You cancelled the check."
        return _finish(enrolment, "deleted")
    if action == "expire":  # the simulation: 15 minutes pass
        enrolment.message = "The code expired."
        return _finish(enrolment, "deleted")
    code = request.form.get("code", "").strip()[:32]
    if action != "confirm" or not code:
        enrolment.message = "Enter the code your bank sent."
        return back
    check = _check_with_issuer if enrolment.code_origin == "issuer" else _check_sandbox_code
    result = check(enrolment, code)
    if result == "SUCCESS":
        enrolment.message = ""
        return _finish(enrolment, "authenticated")
    if result == "INCORRECT_CODE":
        enrolment.message = "That code is not right. Check it and try again."
        return back
    if result == "UNAVAILABLE":
        enrolment.message = "Your bank could not check the code just now. Try again in a moment."
        return back
    enrolment.message = {
        "INCORRECT_CODE_RETRIES_EXCEEDED": "Too many wrong codes.",
        "EXPIRED_CODE": "The code expired.",
    }.get(result, "Your bank did not confirm the code.")
    return _finish(enrolment, "deleted")


@blueprint.get("/__sandbox__/card-on-file/enrolments")
def enrolments() -> Response:
    """Every card a card-on-file merchant saved, with its check and the result it returned."""
    sandbox_state = state()
    with sandbox_state.lock:
        found = [enrolment.to_json() for enrolment in sandbox_state.merchants.card_on_file.values()]
    return jsonify({"enrolments": found})
