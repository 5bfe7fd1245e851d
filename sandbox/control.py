"""The control API tests and demos use to steer the sandbox (loopback only: it has no authentication)."""

from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Blueprint, Response, jsonify, request
from jwt.algorithms import RSAAlgorithm

from sandbox.fixtures import token_requestor_from_json
from sandbox.state import FailureRule, public_key_from_pem
from sandbox.state import current_state as state
from sandbox.tokens import SandboxToken, token_from_json

blueprint = Blueprint("control", __name__, url_prefix="/__sandbox__")
# notifyTokenUpdated's words for the Customer Service API's status and suspender codes.
NTU_STATUSES = {"U": "INACTIVE", "A": "ACTIVE", "S": "SUSPENDED", "D": "DEACTIVATED"}
NTU_SUSPENDERS = {"I": "ISSUER", "W": "TOKEN_REQUESTOR", "C": "CARDHOLDER", "M": "MOBILE_PIN_LOCKED"}


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _bad_request(message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), 400


@blueprint.post("/reset")
def reset() -> tuple[str, int]:
    state().reset()
    return "", 204


@blueprint.post("/fail-next")
def fail_next() -> tuple[Response | str, int]:
    """The next `count` MDES API calls fail with `status`, in MDES's error shape or the gateway's."""
    data = _json_body()
    status, count = data.get("status"), data.get("count", 1)
    if not isinstance(status, int) or not 400 <= status <= 599 or not isinstance(count, int) or count < 1:
        return _bad_request("status must be an HTTP error status (400-599) and count a positive integer")
    shape = data.get("shape", "mdes" if status >= 500 else "gateway")
    if shape not in ("mdes", "gateway"):
        return _bad_request("shape must be mdes or gateway")
    state().add_failure(FailureRule(status=status, remaining=count, shape=shape))
    return "", 204


@blueprint.post("/clock")
def clock() -> tuple[Response, int]:
    """Shift the sandbox clock (OAuth timestamp window, receipt and payload expiry) by offsetSeconds."""
    offset = _json_body().get("offsetSeconds")
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        return _bad_request("offsetSeconds must be a number")
    state().set_clock_offset(float(offset))
    return jsonify({"offsetSeconds": offset, "now": state().now().isoformat()}), 200


@blueprint.post("/clients")
def register_client() -> tuple[Response, int]:
    data = _json_body()
    consumer_key, pem = data.get("consumerKey"), data.get("certificatePem")
    if not isinstance(consumer_key, str) or not consumer_key or not isinstance(pem, str):
        return _bad_request("consumerKey and certificatePem (a PEM certificate or public key) are required")
    try:
        public_key = public_key_from_pem(pem.encode())
    except ValueError as exc:
        return _bad_request(f"certificatePem is not an RSA certificate or public key: {exc}")
    state().register_client(consumer_key, public_key)
    return jsonify({"consumerKey": consumer_key}), 201


@blueprint.post("/token-requestors")
def register_token_requestor() -> tuple[Response, int]:
    data = _json_body()
    trid, name = data.get("tokenRequestorId"), data.get("name")
    if not isinstance(trid, str) or len(trid) != 11 or not trid.isdigit() or not isinstance(name, str) or not name:
        return _bad_request("tokenRequestorId (11 digits) and name are required")
    try:
        token_requestor = token_requestor_from_json(data)
    except (TypeError, ValueError) as exc:
        return _bad_request(str(exc))
    state().register_token_requestor(token_requestor)
    origin = request.host_url.rstrip("/")
    return jsonify(token_requestor.to_mdes_json(origin, list(token_requestor.padded_account_ranges))), 201


@blueprint.get("/receipts")
def receipts() -> Response:
    return jsonify({"receipts": state().receipts_snapshot()})


@blueprint.get("/requests")
def requests_log() -> Response:
    with state().lock:
        entries = list(state().request_log)
    return jsonify({"requests": entries})


@blueprint.get("/jwks.json")
def jwks() -> Response:
    """The key token requestors verify MDES's redirect JWS with, and the key MDES signs its calls to the issuer's
    services with (kid: its RFC 7638 thumbprint)."""
    keys = state().config.keys
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(state().jws_public_key, as_dict=True)
    jwk.update({"kid": keys.jws_kid, "alg": "RS256", "use": "sig"})
    issuer_services_key = public_key_from_pem(keys.issuer_services_verification_key.read_bytes())
    issuer_jwk: dict[str, Any] = RSAAlgorithm.to_jwk(issuer_services_key, as_dict=True)
    issuer_jwk.update({"kid": keys.issuer_services_kid, "alg": "RS256", "use": "sig"})
    return jsonify({"keys": [jwk, issuer_jwk]})


@blueprint.post("/issuer-services")
def issuer_services() -> tuple[Response | str, int]:
    """Where the issuer's services are: {"baseUrl": "http://127.0.0.1:8000/mdes-issuer/1/0"} (null: nowhere)."""
    url = _json_body().get("baseUrl")
    if url is not None and (not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https")):
        return _bad_request("baseUrl must be an http or https address, or null")
    state().set_issuer_services_url(url)
    return "", 204


@blueprint.get("/tokens")
def tokens() -> Response:
    """Every token the sandbox's MDES holds, as the Customer Service API describes it, with its status history."""
    return jsonify({"tokens": [token.to_control_json() for token in state().all_tokens()]})


@blueprint.post("/tokens")
def create_token() -> tuple[Response, int]:
    """A token as if a wallet had created it: {"accountNumber", "tokenRequestorId", optional "deviceName",
    "deviceType", "status" (A or U), "tokenUniqueReference"}."""
    data = _json_body()
    try:
        token = token_from_json(data, state())
    except ValueError as exc:
        return _bad_request(str(exc))
    state().add_token(token)
    return jsonify(token.to_control_json()), 201


@blueprint.post("/tokens/<reference>/wallet")
def wallet_acts(reference: str) -> tuple[Response, int]:
    """What a wallet or merchant does to its token on its own (initiator W): {"action": "suspend", "unsuspend" or
    "delete_from_device"}. The portal learns of it by asking the network, as with real MDES, and, when the sandbox
    knows the issuer's services, by notifyTokenUpdated."""
    sandbox_state = state()
    token = sandbox_state.token(reference)
    if token is None:
        return _bad_request("no such token")
    action = _json_body().get("action")
    with sandbox_state.lock:
        now = sandbox_state.now()
        if action == "suspend" and token.status in ("A", "S") and "W" not in token.suspenders:
            token.suspenders.append("W")
            token.change("S", now, "W")
        elif action == "unsuspend" and "W" in token.suspenders:
            token.suspenders.remove("W")
            token.change("S" if token.suspenders else "A", now, "W")
        elif action == "delete_from_device" and token.status != "D":
            token.deleted_from_consumer_app = True
            token.change(token.status, now, "W")
        else:
            return _bad_request(f"{action!r} does not apply to a token that is {token.status}")
        answer = token.to_control_json()
    answer["issuerNotified"] = _notify_issuer(token, deleted_from_device=action == "delete_from_device")
    return jsonify(answer), 200


def _notify_issuer(token: SandboxToken, *, deleted_from_device: bool) -> int | None:
    """notifyTokenUpdated for the token's new state: the issuer's HTTP status, or None (not sent, or no answer)."""
    client = state().issuer_client()
    if client is None:
        return None
    try:
        if deleted_from_device:
            answer = client.notify_token_updated(
                token_unique_reference=token.token_unique_reference, reason_code="DELETED_FROM_CONSUMER_APP"
            )
        else:
            answer = client.notify_token_updated(
                token_unique_reference=token.token_unique_reference,
                status=NTU_STATUSES[token.status],
                suspended_by=[NTU_SUSPENDERS[code] for code in token.suspenders if code in NTU_SUSPENDERS],
            )
    except requests.RequestException:
        return None
    return answer.status
