"""The three Token Connect operations behind the gateway, on MDES's own paths (and the /mdes/mtf aliases).

Every call goes: forced failure (control API) -> gateway (OAuth) -> magic request ids -> operation. Request-level
input errors answer in MDES's ErrorWrapper shape with `config.request_error_status`; per-account problems of a
push answer inside a 200 next to the receipts of the other accounts (partial success).
"""

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from sandbox import gateway
from sandbox.crypto import PayloadDecryptionError, decrypt_envelope, jws_sign
from sandbox.fixtures import SimulatedTokenRequestor
from sandbox.logos import PNG_SIZE, logo_png, logo_svg
from sandbox.state import FailureRule, SandboxState
from sandbox.state import current_state as state
from sandbox.validation import (
    Problem,
    check_account_list,
    check_eligible_request,
    check_funding_account,
    check_push_request,
    request_id_of,
)

blueprint = Blueprint("mdes", __name__)

MAGIC_MDES_ERROR = "SANDBOX-MDES-"  # SANDBOX-MDES-<status>...: MDES fails with that 5xx status
MAGIC_GATEWAY_ERROR = "SANDBOX-GATEWAY-"  # SANDBOX-GATEWAY-<status>...: the gateway refuses with that status
MAGIC_SLOW = "SANDBOX-SLOW-"  # SANDBOX-SLOW-<seconds>...: the answer comes after that many seconds
_GATEWAY_REASONS = {401: "AUTHENTICATION_FAILED", 403: "PERMISSION_DENIED", 429: "RATE_LIMIT_EXCEEDED"}
_MAESTRO_STARTS = ("50", "56", "57", "58", "6")


def public_origin() -> str:
    configured: str | None = state().config.public_origin
    return configured or request.host_url.rstrip("/")


def mdes_error_response(status: int, problems: list[Problem], response_id: str | None) -> Response:
    body: dict[str, Any] = {"errors": [problem.to_json() for problem in problems]}
    if response_id:
        body["responseId"] = response_id
    response = jsonify(body)
    response.status_code = status
    return response


def gateway_error_response(status: int, reason_code: str, description: str, **extra: Any) -> Response:
    response = jsonify(gateway.gateway_error_body(reason_code, description, **extra))
    response.status_code = status
    return response


def signed_request() -> gateway.SignedRequest:
    # The raw request target, as the client signed it (werkzeug's request.path is already percent-decoded).
    raw_target = request.environ.get("RAW_URI") or quote(request.path) + (
        f"?{request.query_string.decode()}" if request.query_string else ""
    )
    return gateway.SignedRequest(
        method=request.method,
        url=f"{request.scheme}://{request.host}{raw_target}",
        authorization=request.headers.get("Authorization"),
        body=request.get_data(cache=True),
    )


def gateway_rejection(sandbox_state: SandboxState) -> Response | None:
    """The gateway's answer to a request whose OAuth signature, key, timestamp or nonce it refuses, else None."""
    rejection = gateway.verify(
        signed_request(),
        client_keys=sandbox_state.client_keys_snapshot(),
        now=sandbox_state.epoch(),
        window_seconds=sandbox_state.config.timestamp_window_seconds,
        remember_nonce=sandbox_state.remember_nonce,
    )
    if rejection is None:
        return None
    response = jsonify(rejection.body())
    response.status_code = rejection.status
    return response


def _forced_failure(rule: FailureRule) -> Response:
    if rule.shape == "gateway":
        reason = _GATEWAY_REASONS.get(rule.status, "GATEWAY_ERROR")
        return gateway_error_response(rule.status, reason, "Failure forced through the sandbox control API")
    problem = Problem("INTERNAL_SERVICE_FAILURE", "Failure forced through the sandbox control API", "MDES", True)
    return mdes_error_response(rule.status, [problem], None)


def _magic_response(request_id: str | None) -> Response | None:
    """Outcomes forced by the requestId (documented in sandbox/README.md)."""
    if not request_id:
        return None
    if request_id.startswith(MAGIC_SLOW):
        seconds = number_after(request_id, MAGIC_SLOW)
        time.sleep(min(seconds or 0.0, state().config.max_slow_seconds))
        return None
    if request_id.startswith(MAGIC_MDES_ERROR):
        status = int(number_after(request_id, MAGIC_MDES_ERROR) or 500)
        problem = Problem("INTERNAL_SERVICE_FAILURE", "MDES failure forced by the requestId", "MDES", True)
        return mdes_error_response(status if 500 <= status <= 599 else 500, [problem], request_id)
    if request_id.startswith(MAGIC_GATEWAY_ERROR):
        status = int(number_after(request_id, MAGIC_GATEWAY_ERROR) or 403)
        status = status if 400 <= status <= 599 else 403
        reason = _GATEWAY_REASONS.get(status, "GATEWAY_ERROR")
        return gateway_error_response(
            status, reason, "Gateway failure forced by the requestId", recoverable=status == 429
        )
    return None


def number_after(text: str, prefix: str) -> float | None:
    digits = ""
    for char in text[len(prefix) :]:
        if not (char.isdigit() or (char == "." and "." not in digits)):
            break
        digits += char
    try:
        return float(digits)
    except ValueError:
        return None


def _api_call(operation: str, handler: Callable[[Any], Response]) -> Response:
    sandbox_state = state()
    body = _json_or_none(request.get_data(cache=True)) if request.method == "POST" else None
    response = _guarded(sandbox_state, handler, body)
    sandbox_state.log_request(
        operation=operation,
        method=request.method,
        path=request.path,
        status=response.status_code,
        request_id=request_id_of(body),
    )
    return response


def _guarded(sandbox_state: SandboxState, handler: Callable[[Any], Response], body: Any) -> Response:
    failure = sandbox_state.take_failure()
    if failure is not None:
        return _forced_failure(failure)
    rejection = gateway_rejection(sandbox_state)
    if rejection is not None:
        return rejection
    if request.method == "POST" and not isinstance(body, dict):
        problem = Problem("INVALID_JSON", "The request body is not a JSON object")
        return mdes_error_response(sandbox_state.config.request_error_status, [problem], None)
    magic = _magic_response(request_id_of(body))
    if magic is not None:
        return magic
    return handler(body)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _routes(rule: str) -> list[str]:
    return [f"/mdes{rule}", f"/mdes/mtf{rule}"]


# --- getEligibleTokenRequestors -----------------------------------------------------------------------------------
def eligible_token_requestors(body: dict[str, Any]) -> Response:
    sandbox_state = state()
    checked, problems = check_eligible_request(body)
    if checked is None:
        return mdes_error_response(sandbox_state.config.request_error_status, problems, request_id_of(body))
    origin = public_origin()
    found = []
    for token_requestor in sandbox_state.all_token_requestors():
        matching = token_requestor.matching_ranges(checked.padded_ranges)
        if not matching or (checked.supports_token_connect and not token_requestor.in_token_connect):
            continue
        found.append(token_requestor.to_mdes_json(origin, matching))
    return jsonify({"responseId": checked.request_id, "tokenRequestors": found})


def eligible_view() -> Response:
    return _api_call("getEligibleTokenRequestors", eligible_token_requestors)


for _path in _routes("/connect/1/0/getEligibleTokenRequestors"):
    blueprint.add_url_rule(_path, endpoint=f"eligible{_path}", view_func=eligible_view, methods=["POST"])


# --- getAsset ---------------------------------------------------------------------------------------------------
def _media_contents(token_requestor: SimulatedTokenRequestor) -> list[dict[str, str]]:
    png = logo_png(token_requestor.logo)
    svg = logo_svg(token_requestor.logo, token_requestor.consumer_facing_name)
    return [
        {
            "type": "image/png",
            "data": base64.b64encode(png).decode("ascii"),
            "height": str(PNG_SIZE),
            "width": str(PNG_SIZE),
        },
        {"type": "image/svg+xml", "data": base64.b64encode(svg).decode("ascii")},
    ]


def asset(asset_id: str) -> Response:
    sandbox_state = state()
    if not 1 <= len(asset_id) <= 64 or not all(char.isalnum() or char == "-" for char in asset_id):
        problem = Problem("INVALID_FIELD_FORMAT", "Invalid Field Format - AssetId")
        return mdes_error_response(sandbox_state.config.request_error_status, [problem], None)
    for token_requestor in sandbox_state.all_token_requestors():
        if token_requestor.image_asset_id == asset_id:
            return jsonify({"mediaContents": _media_contents(token_requestor)})
    problem = Problem("INVALID_FIELD_VALUE", f"Invalid Field Value - AssetId: no asset {asset_id} in the repository")
    return mdes_error_response(404, [problem], None)


def asset_view(asset_id: str) -> Response:
    return _api_call("getAsset", lambda _body: asset(asset_id))


for _path in _routes("/issuer-assets/1/0/asset/tokenrequestor/<path:asset_id>"):
    blueprint.add_url_rule(_path, endpoint=f"asset{_path}", view_func=asset_view, methods=["GET"])


# --- pushMultipleAccounts ---------------------------------------------------------------------------------------
def receipt_prefix(account_number: str) -> str:
    for start, prefix in state().config.receipt_prefixes:
        if account_number.startswith(start):
            return prefix
    return "MSI" if account_number.startswith(_MAESTRO_STARTS) else "MCC"


def _digitization_data(receipt: str) -> str:
    payload = json.dumps({"fundingAccountInfo": {"pushAccountReceipt": receipt}}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode("ascii")


def _expiry(account: dict[str, Any]) -> tuple[str, str]:
    card = account["fundingAccountData"].get("cardAccountData") or {}
    return str(card.get("expiryMonth", "")), str(card.get("expiryYear", ""))


def _push_one(
    account: dict[str, Any], token_requestor: SimulatedTokenRequestor, request_id: str, validity: int, want_iidd: bool
) -> dict[str, Any]:
    sandbox_state = state()
    checked = check_funding_account(
        account,
        now=sandbox_state.now(),
        accepted_holder_data=token_requestor.supported_account_holder_data,
        required_holder_data=token_requestor.required_account_holder_data,
    )
    result: dict[str, Any] = {"pushAccountId": checked.push_account_id}
    if checked.problems:
        result["errors"] = [problem.to_json() for problem in checked.problems]
        return result
    if checked.account_number is None or not token_requestor.covers_account(checked.account_number):
        problem = Problem(
            "ACCOUNT_INELIGIBLE", "The account has no account range enabled for this token requestor", "MDES"
        )
        result["errors"] = [problem.to_json()]
        return result
    record = sandbox_state.mint_receipt(
        prefix=receipt_prefix(checked.account_number),
        trid=token_requestor.trid,
        push_account_id=checked.push_account_id,
        request_id=request_id,
        account_number=checked.account_number,
        minutes=validity,
        expiry=_expiry(account),
    )
    result["pushAccountReceipt"] = record.receipt
    if want_iidd and token_requestor.supports_issuer_initiated_digitization_data:
        result["issuerInitiatedDigitizationData"] = _digitization_data(record.receipt)
    return result


def push_multiple_accounts(body: dict[str, Any]) -> Response:
    sandbox_state = state()
    error_status = sandbox_state.config.request_error_status
    checked, problems = check_push_request(body)
    if checked is None:
        return mdes_error_response(error_status, problems, request_id_of(body))
    token_requestor = sandbox_state.token_requestor(checked.token_requestor_id)
    if token_requestor is None or not token_requestor.in_token_connect:
        why = "unknown token requestor" if token_requestor is None else "not a Token Connect token requestor"
        problem = Problem("INVALID_FIELD_VALUE", f"Invalid Field Value - tokenRequestorId: {why}")
        return mdes_error_response(error_status, [problem], checked.request_id)
    try:
        clear = decrypt_envelope(
            checked.envelope,
            private_key=sandbox_state.encryption_key,
            accepted_fingerprints=sandbox_state.accepted_fingerprints,
        )
        accounts = json.loads(clear)
    except PayloadDecryptionError as exc:
        problem = Problem("CRYPTOGRAPHY_ERROR", f"The encrypted payload cannot be decrypted: {exc}")
        return mdes_error_response(error_status, [problem], checked.request_id)
    except ValueError:
        problem = Problem("INVALID_JSON", "The decrypted payload is not JSON")
        return mdes_error_response(error_status, [problem], checked.request_id)
    problems = check_account_list(accounts, allows_multiple=token_requestor.supports_multiple_pushed_cards)
    if problems:
        return mdes_error_response(error_status, problems, checked.request_id)
    results = [
        _push_one(
            account, token_requestor, checked.request_id, checked.validity_minutes, checked.request_digitization_data
        )
        for account in accounts
    ]
    return jsonify(_push_response(checked.request_id, checked.signature_data, token_requestor, results))


def _push_response(
    request_id: str,
    signature_data: dict[str, Any],
    token_requestor: SimulatedTokenRequestor,
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    receipts = [result["pushAccountReceipt"] for result in results if "pushAccountReceipt" in result]
    response: dict[str, Any] = {"responseId": request_id, "pushAccountReceipts": results}
    if receipts:
        response["availablePushMethods"] = token_requestor.push_method_uris(public_origin())
    response["tokenRequestorSignatureSupport"] = token_requestor.supports_signature
    if token_requestor.supports_signature and receipts:
        sandbox_state = state()
        response["signature"] = jws_sign(
            {"pushAccountReceipts": receipts, **signature_data},
            private_key=sandbox_state.jws_key,
            kid=sandbox_state.config.keys.jws_kid,
        )
    return response


def push_view() -> Response:
    return _api_call("pushMultipleAccounts", push_multiple_accounts)


for _path in _routes("/connect/1/0/pushMultipleAccounts"):
    blueprint.add_url_rule(_path, endpoint=f"push{_path}", view_func=push_view, methods=["POST"])
