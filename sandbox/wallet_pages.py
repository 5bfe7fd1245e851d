"""The simulated wallet's manual add: a person types a card's number, expiry and security code, and the sandbox's
MDES asks the issuer's services, exactly as MDES would (sandbox.issuer_services: signed, the funding account
encrypted to the issuer's certificate).

authorizeService decides. APPROVED: the token is active and the issuer is told (notifyServiceActivated).
DECLINED: nothing is made. REQUIRE_ADDITIONAL_AUTHENTICATION: the token waits (status U) while the person picks one
of the activation methods the issuer returned (requestActivationMethods when it returned none):
- a text or an e-mail: deliverActivationCode, then the code the person received (the demo's /inbox shows it) is
  checked, by the issuer (validateActivationCode) or by MDES itself when MDES made the code (the page's choice),
  three tries; a resend sends the same code;
- the issuer's website or app: the page waits until the issuer has activated the token (through the Customer
  Service API), then finishes as above.
The risk fields stand in for the wallet's own assessment (walletProviderDecisioningInfo); see sandbox/README.md.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import requests
from flask import Blueprint, Response, abort, render_template, request, url_for

from sandbox.issuer_services import Answer, CardData, Device, IssuerServicesClient, new_correlation_id
from sandbox.state import WalletEnrolment
from sandbox.state import current_state as state
from sandbox.tokens import SandboxToken, new_token_unique_reference

blueprint = Blueprint("wallet", __name__)

DEVICES = {
    "android": Device("Pixel 9 (sandbox)", "PHONE", "ANDROID", "21"),
    "ios": Device("iPhone (sandbox)", "PHONE", "IOS", "21"),
    "watch": Device("Galaxy Watch (sandbox)", "WATCH", "ANDROID_WEAR", "23"),
}
RECOMMENDATIONS = ("", "APPROVED", "REQUIRE_ADDITIONAL_AUTHENTICATION", "DECLINED")
SCORES = ("", "1", "2", "3", "4", "5")
CODE_MODES = {"issuer": "Your bank makes and checks the code", "mdes": "MDES makes and checks the code"}
CODE_METHODS = frozenset({"TEXT_TO_CARDHOLDER_NUMBER", "EMAIL_TO_CARDHOLDER_ADDRESS"})
METHOD_LABELS = {
    "TEXT_TO_CARDHOLDER_NUMBER": "Text message to {value}",
    "EMAIL_TO_CARDHOLDER_ADDRESS": "E-mail to {value}",
    "CARDHOLDER_TO_VISIT_WEBSITE": "Approve it on your bank's website",
    "CARDHOLDER_TO_USE_MOBILE_APP": "Approve it in {value}",
    "CARDHOLDER_TO_CALL_AUTOMATED_NUMBER": "Call {value}",
    "CARDHOLDER_TO_CALL_MANNED_NUMBER": "Call {value}",
}
MAX_ATTEMPTS = 3
_DIGITS = re.compile(r"[0-9]+")


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _wallet(trid: str) -> Any:
    token_requestor = state().token_requestor(trid)
    if token_requestor is None or token_requestor.requestor_type != "WALLET":
        abort(404)
    return token_requestor


def _form_problems(form: dict[str, str]) -> list[str]:
    problems = []
    if not (_DIGITS.fullmatch(form["number"]) and 12 <= len(form["number"]) <= 19):
        problems.append("The card number is 12 to 19 digits.")
    if not (_DIGITS.fullmatch(form["month"]) and len(form["month"]) == 2 and 1 <= int(form["month"]) <= 12):
        problems.append("The expiry month is two digits, 01 to 12.")
    if not (_DIGITS.fullmatch(form["year"]) and len(form["year"]) == 2):
        problems.append("The expiry year is two digits.")
    if not (_DIGITS.fullmatch(form["security_code"]) and len(form["security_code"]) == 3):
        problems.append("The security code is the three digits on the back.")
    if form["device"] not in DEVICES or form["code_mode"] not in CODE_MODES:
        problems.append("Choose a device and who makes the code.")
    if form["recommendation"] not in RECOMMENDATIONS or {form["device_score"], form["account_score"]} - set(SCORES):
        problems.append("The wallet's assessment has a value the sandbox does not know.")
    return problems


def _form() -> dict[str, str]:
    names = ("number", "month", "year", "security_code", "device", "code_mode", "recommendation")
    form = {name: request.form.get(name, "").replace(" ", "").strip() for name in names}
    form["device_score"] = request.form.get("device_score", "")
    form["account_score"] = request.form.get("account_score", "")
    return form


def _add_page(token_requestor: Any, status: int = 200, **context: Any) -> Response:
    return _page(
        "wallet_add.html",
        status,
        token_requestor=token_requestor,
        devices=DEVICES,
        recommendations=RECOMMENDATIONS,
        scores=SCORES,
        code_modes=CODE_MODES,
        configured=state().issuer_client() is not None,
        **context,
    )


@blueprint.get("/wallet/<trid>/add-card")
def add_card_page(trid: str) -> Response:
    return _add_page(_wallet(trid), form={"device": "android", "code_mode": "issuer"})


def _decisioning(form: dict[str, str]) -> dict[str, str] | None:
    values = {
        "recommendedDecision": form["recommendation"],
        "deviceScore": form["device_score"],
        "accountScore": form["account_score"],
    }
    values = {name: value for name, value in values.items() if value}
    return values or None


def _instance_id(trid: str, device: Device) -> str:
    """One payment app instance per wallet and device, as a real device keeps it."""
    return hashlib.sha256(f"{trid}/{device.name}".encode()).hexdigest()[:48]


def _ask(enrolment: WalletEnrolment, call: Callable[[IssuerServicesClient], Answer]) -> Answer | None:
    """Call the issuer's services; None (and the enrolment failed, saying why) when they could not be reached."""
    client = state().issuer_client()
    if client is None:
        enrolment.status, enrolment.message = "failed", "The sandbox does not know where the issuer's services are."
        return None
    try:
        return call(client)
    except requests.RequestException:
        enrolment.status, enrolment.message = "failed", "The issuer's services could not be reached."
        return None


def _refused(answer: Answer) -> str:
    return (
        f"The issuer's services answered {answer.status}: {answer.body.get('errorCode', '?')} "
        f"({answer.body.get('errorDescription', '')})."
    )


def _back(enrolment: WalletEnrolment) -> Response:
    """See Other: the enrolment's page, which shows where it stands."""
    return Response(status=303, headers={"Location": url_for("wallet.enrolment_page", enrolment_id=enrolment.id)})


def _new_token(enrolment: WalletEnrolment, status: str) -> SandboxToken:
    sandbox_state = state()
    token_requestor = sandbox_state.token_requestor(enrolment.trid)
    now = sandbox_state.now()
    awaiting = status == "U"
    token = SandboxToken(
        token_unique_reference=enrolment.token_unique_reference,
        trid=enrolment.trid,
        token_requestor_name=token_requestor.name if token_requestor else "",
        consumer_facing_name=token_requestor.consumer_facing_name if token_requestor else "",
        wallet_id=token_requestor.wallet_id if token_requestor else None,
        account_number=enrolment.card.account_number,
        token_suffix=f"{secrets.randbelow(10_000):04d}",
        expiration_date=f"{now.month:02d}{(now.year + 3) % 100:02d}",
        token_type="C",  # noqa: S106 - the token type code (cloud), not a secret
        device_name=enrolment.device.name,
        device_type=enrolment.device.iso_type,
        created_at=now,
        status=status,
        provisioning_status="A" if awaiting else "S",
        final_decision="R" if awaiting else "A",
        activated_at=None if awaiting else now,
    )
    sandbox_state.add_token(token)
    return token


def _activate(enrolment: WalletEnrolment) -> None:
    """The token is active: tell the issuer (notifyServiceActivated), as MDES does once provisioning completes."""
    sandbox_state = state()
    token = sandbox_state.token(enrolment.token_unique_reference)
    with sandbox_state.lock:
        if token is not None and token.status == "U":
            token.status, token.provisioning_status = "A", "S"
            token.activated_at = sandbox_state.now()
    token_requestor = sandbox_state.token_requestor(enrolment.trid)
    answer = _ask(
        enrolment,
        lambda client: client.notify_service_activated(
            enrolment.card,
            token_unique_reference=enrolment.token_unique_reference,
            correlation_id=enrolment.correlation_id,
            token_requestor_id=enrolment.trid,
            decision=enrolment.decision,
            wallet_id=token_requestor.wallet_id if token_requestor else None,
            device=enrolment.device,
            activation_attempts=max(1, enrolment.attempts),
        ),
    )
    enrolment.status = "added"
    enrolment.message = (
        "" if answer is None or answer.ok else f"The card is added, but notifying the bank failed: {_refused(answer)}"
    )


@blueprint.post("/wallet/<trid>/add-card")
def add_card(trid: str) -> Response:
    token_requestor = _wallet(trid)
    form = _form()
    problems = _form_problems(form)
    if problems:
        return _add_page(token_requestor, 400, form=form | {"number": "", "security_code": ""}, problems=problems)
    device = DEVICES[form["device"]]
    enrolment = WalletEnrolment(
        id=secrets.token_urlsafe(16),
        trid=trid,
        card=CardData(form["number"], form["month"], form["year"], form["security_code"]),
        device=device,
        token_unique_reference=new_token_unique_reference(),
        correlation_id=new_correlation_id(),
        payment_app_instance_id=_instance_id(trid, device),
        code_mode=form["code_mode"],
    )
    fields: dict[str, Any] = {
        "token_unique_reference": enrolment.token_unique_reference,
        "correlation_id": enrolment.correlation_id,
        "token_requestor_id": trid,
        "wallet_id": token_requestor.wallet_id,
        "device": device,
        "payment_app_instance_id": enrolment.payment_app_instance_id,
        "consumer_facing_name": token_requestor.consumer_facing_name,
    }
    decisioning = _decisioning(form)
    answer = _ask(enrolment, lambda client: client.authorize_service(enrolment.card, decisioning=decisioning, **fields))
    if answer is not None and not answer.ok:
        enrolment.status, enrolment.message = "failed", _refused(answer)
    elif answer is not None:
        enrolment.decision = str(answer.body.get("decision", ""))
        if enrolment.decision == "APPROVED":
            _new_token(enrolment, "A")
            _activate(enrolment)
        elif enrolment.decision == "REQUIRE_ADDITIONAL_AUTHENTICATION":
            _new_token(enrolment, "U")
            methods = answer.body.get("activationMethods") or []
            if not methods:
                more = _ask(enrolment, lambda client: client.request_activation_methods(enrolment.card, **fields))
                methods = more.body.get("activationMethods", []) if more is not None and more.ok else []
            enrolment.methods = [m for m in methods if isinstance(m, dict) and {"type", "value"} <= set(m)]
            enrolment.status = "choose" if enrolment.methods else "failed"
            if not enrolment.methods:
                enrolment.message = enrolment.message or "Your bank offered no way to confirm it is you."
        else:
            enrolment.status = "declined"
    state().add_enrolment(enrolment)
    return _back(enrolment)


def _enrolment(enrolment_id: str) -> WalletEnrolment:
    enrolment = state().enrolment(enrolment_id)
    if enrolment is None:
        abort(404)
    return enrolment


def _label(method: dict[str, str]) -> str:
    return METHOD_LABELS.get(method["type"], method["type"] + ": {value}").format(value=method["value"])


@blueprint.get("/wallet/enrolments/<enrolment_id>")
def enrolment_page(enrolment_id: str) -> Response:
    enrolment = _enrolment(enrolment_id)
    token_requestor = state().token_requestor(enrolment.trid)
    return _page(
        "wallet_enrolment.html",
        enrolment=enrolment,
        token_requestor=token_requestor,
        methods=[(index, _label(method)) for index, method in enumerate(enrolment.methods)],
        attempts_left=MAX_ATTEMPTS - enrolment.attempts,
    )


def _deliver(enrolment: WalletEnrolment) -> None:
    method = enrolment.chosen or {}
    answer = _ask(
        enrolment,
        lambda client: client.deliver_activation_code(
            token_unique_reference=enrolment.token_unique_reference,
            correlation_id=enrolment.correlation_id,
            method=method,
            activation_code=enrolment.mdes_code,
            expires_at=enrolment.code_expires_at,
        ),
    )
    if answer is not None and not answer.ok:
        enrolment.status, enrolment.message = "choose", _refused(answer)


@blueprint.post("/wallet/enrolments/<enrolment_id>/method")
def choose_method(enrolment_id: str) -> Response:
    enrolment = _enrolment(enrolment_id)
    choice = request.form.get("method", "")
    if enrolment.status not in ("choose", "code", "waiting") or not choice.isdigit():
        return _back(enrolment)
    index = int(choice)
    if index >= len(enrolment.methods):
        return _back(enrolment)
    enrolment.chosen, enrolment.message = enrolment.methods[index], ""
    if enrolment.chosen["type"] not in CODE_METHODS:
        enrolment.status = "waiting"
        return _back(enrolment)
    if enrolment.code_mode == "mdes" and enrolment.mdes_code is None:
        enrolment.mdes_code = f"{secrets.randbelow(10**6):06d}"
        enrolment.code_expires_at = state().now() + timedelta(minutes=state().config.activation_code_minutes)
    enrolment.status = "code"
    _deliver(enrolment)
    return _back(enrolment)


@blueprint.post("/wallet/enrolments/<enrolment_id>/resend")
def resend(enrolment_id: str) -> Response:
    enrolment = _enrolment(enrolment_id)
    if enrolment.status == "code":
        _deliver(enrolment)
        if enrolment.status == "code":
            enrolment.message = "We asked your bank to send the code again."
    return _back(enrolment)


def _check_mdes_code(enrolment: WalletEnrolment, code: str) -> str:
    if enrolment.code_expires_at is None or enrolment.code_expires_at <= state().now():
        return "EXPIRED_CODE"
    enrolment.attempts += 1
    if hmac.compare_digest(code, enrolment.mdes_code or ""):
        return "SUCCESS"
    return "INCORRECT_CODE_RETRIES_EXCEEDED" if enrolment.attempts >= MAX_ATTEMPTS else "INCORRECT_CODE"


@blueprint.post("/wallet/enrolments/<enrolment_id>/code")
def enter_code(enrolment_id: str) -> Response:
    enrolment = _enrolment(enrolment_id)
    code = request.form.get("code", "").strip()
    if enrolment.status != "code" or not code:
        return _back(enrolment)
    if enrolment.code_mode == "mdes":
        result = _check_mdes_code(enrolment, code)
    else:
        answer = _ask(
            enrolment,
            lambda client: client.validate_activation_code(
                token_unique_reference=enrolment.token_unique_reference,
                correlation_id=enrolment.correlation_id,
                code=code,
            ),
        )
        if answer is None:
            return _back(enrolment)
        if not answer.ok:
            enrolment.message = _refused(answer)
            return _back(enrolment)
        enrolment.attempts += 1
        result = str(answer.body.get("result", ""))
    if result == "SUCCESS":
        _activate(enrolment)
    elif result == "INCORRECT_CODE":
        enrolment.message = "That code is not right. Check it and try again."
    else:
        enrolment.status = "failed"
        enrolment.message = {
            "INCORRECT_CODE_RETRIES_EXCEEDED": "Too many wrong codes: the card was not added.",
            "EXPIRED_CODE": "The code has expired: the card was not added.",
        }.get(result, f"Your bank answered {result or 'nothing'}: the card was not added.")
    return _back(enrolment)


@blueprint.post("/wallet/enrolments/<enrolment_id>/check")
def check(enrolment_id: str) -> Response:
    """The person says they approved on the bank's website or app: has the bank activated the token?"""
    enrolment = _enrolment(enrolment_id)
    if enrolment.status != "waiting":
        return _back(enrolment)
    token = state().token(enrolment.token_unique_reference)
    if token is not None and token.status == "A":
        _activate(enrolment)  # MDES tells the issuer once the token is active, however it got there
    elif token is not None and token.status == "D":
        enrolment.status, enrolment.message = "declined", "You declined this request with your bank."
    else:
        enrolment.message = "Your bank has not approved it yet."
    return _back(enrolment)
