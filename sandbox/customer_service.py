"""The MDES Customer Service API (mdes-beyond-the-push.md section 3), on MDES's paths `/mdes/csapi/v2/...` and the
MTF's `/mdes/csapi/mtf/v2/...`.

Every call goes: forced failure (control API) -> gateway (OAuth) -> magic AuditInfo.UserId -> validation ->
operation. Errors use the API's own envelope `{"Errors":{"Error":[{Source, ReasonCode, ErrorCode?, Description,
Recoverable}]}}`. A search that finds nothing answers EMPTY_RESULT with HTTP 200, as the specification documents;
a lifecycle call on an unknown token answers EMPTY_RESULT with 400 (as W3 documents it for update).
"""

import json
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.crypto import PayloadDecryptionError, decrypt_envelope
from sandbox.mdes_api import gateway_rejection, number_after
from sandbox.state import current_state as state
from sandbox.tokens import SandboxToken

blueprint = Blueprint("customer_service", __name__)

MAGIC_MDES_ERROR = "SANDBOX-MDES-"  # AuditInfo.UserId SANDBOX-MDES-<5xx>: MDES fails with that status
MAGIC_GATEWAY_ERROR = "SANDBOX-GATEWAY-"  # SANDBOX-GATEWAY-<status>: the gateway refuses with that status
MAGIC_SLOW = "SANDBOX-SLOW-"  # SANDBOX-SLOW-<seconds>: the answer comes that late
MAGIC_ERROR = "SANDBOX-ERROR-"  # SANDBOX-ERROR-<REASON_CODE>: HTTP 400 with that reason code
_GATEWAY_REASONS = {401: "AUTHENTICATION_FAILED", 403: "PERMISSION_DENIED", 429: "RATE_LIMIT_EXCEEDED"}
_REFERENCE = re.compile(r"[A-Za-z0-9_-]{48,64}")
_REASONS = {
    "TokenActivateRequest": ("A", "C"),
    "TokenSuspendRequest": ("L", "S", "T", "Z"),
    "TokenUnsuspendRequest": ("F", "T", "Z"),
    "TokenDeleteRequest": ("L", "S", "F", "T", "C", "D", "Z"),
}
# Identities whose calls count as the cardholder's own (suspender C), not the issuer's (I): see sandbox/README.md.
CARDHOLDER_USER_IDS = ("portal-self-service",)
CARD_ON_FILE = "F"


class CsError(Exception):
    def __init__(self, status: int, reason_code: str, description: str, source: str = "INPUT") -> None:
        super().__init__(description)
        self.status, self.reason_code, self.description, self.source = status, reason_code, description, source


def error_response(status: int, reason_code: str, description: str, source: str = "MDES", **extra: Any) -> Response:
    item: dict[str, Any] = {"Source": source, "ReasonCode": reason_code, "Description": description[:256]}
    item.update(extra)
    item.setdefault("Recoverable", status >= 500)
    response = jsonify({"Errors": {"Error": [item]}})
    response.status_code = status
    return response


def _routes(rule: str) -> list[str]:
    return [f"/mdes/csapi/v2{rule}", f"/mdes/csapi/mtf/v2{rule}"]


def _api_call(operation: str, wrapper: str, handler: Callable[[dict[str, Any]], Response]) -> Response:
    sandbox_state = state()
    response = _guarded(wrapper, handler)
    sandbox_state.log_request(
        operation=operation, method=request.method, path=request.path, status=response.status_code, request_id=None
    )
    return response


def _guarded(wrapper: str, handler: Callable[[dict[str, Any]], Response]) -> Response:
    sandbox_state = state()
    failure = sandbox_state.take_failure()
    if failure is not None:
        if failure.shape == "gateway":
            reason = _GATEWAY_REASONS.get(failure.status, "GATEWAY_ERROR")
            return error_response(failure.status, reason, "Failure forced through the control API", "Gateway")
        return error_response(failure.status, "INTERNAL_SERVICE_FAILURE", "Failure forced through the control API")
    rejection = gateway_rejection(sandbox_state)
    if rejection is not None:
        return rejection
    try:
        body = json.loads(request.get_data(cache=True))
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get(wrapper), dict) or len(body) != 1:
        return error_response(400, "INVALID_JSON", f"The body must be one object {{{wrapper!r}: {{...}}}}", "INPUT")
    data: dict[str, Any] = body[wrapper]
    try:
        user_id = _audit_user_id(data)
        magic = _magic_response(user_id)
        if magic is not None:
            return magic
        return handler(data)
    except CsError as exc:
        return error_response(exc.status, exc.reason_code, exc.description, exc.source)


def _audit_user_id(data: dict[str, Any]) -> str:
    audit = data.get("AuditInfo")
    if not isinstance(audit, dict):
        raise CsError(400, "MISSING_REQUIRED_FIELD", "Missing Required Field - AuditInfo")
    for name, low, high in (("UserId", 4, 50), ("UserName", 4, 200), ("Organization", 4, 200)):
        value = audit.get(name)
        if not isinstance(value, str):
            raise CsError(400, "MISSING_REQUIRED_FIELD", f"Missing Required Field - AuditInfo.{name}")
        if not low <= len(value) <= high:
            raise CsError(400, "INVALID_FIELD_LENGTH", f"Invalid Field Length - AuditInfo.{name}")
    user_id: str = audit["UserId"]
    return user_id


def _magic_response(user_id: str) -> Response | None:
    if user_id.startswith(MAGIC_SLOW):
        time.sleep(min(number_after(user_id, MAGIC_SLOW) or 0.0, state().config.max_slow_seconds))
        return None
    if user_id.startswith(MAGIC_MDES_ERROR):
        status = int(number_after(user_id, MAGIC_MDES_ERROR) or 500)
        status = status if 500 <= status <= 599 else 500
        return error_response(status, "INTERNAL_SERVICE_FAILURE", "MDES failure forced by AuditInfo.UserId")
    if user_id.startswith(MAGIC_GATEWAY_ERROR):
        status = int(number_after(user_id, MAGIC_GATEWAY_ERROR) or 403)
        status = status if 400 <= status <= 599 else 403
        reason = _GATEWAY_REASONS.get(status, "GATEWAY_ERROR")
        return error_response(status, reason, "Gateway failure forced by AuditInfo.UserId", "Gateway")
    if user_id.startswith(MAGIC_ERROR):
        reason = user_id[len(MAGIC_ERROR) :] or "INVALID_FIELD_VALUE"
        return error_response(400, reason, "Error forced by AuditInfo.UserId")
    return None


def _reference(data: dict[str, Any]) -> str:
    value = data.get("TokenUniqueReference")
    if value is None:
        raise CsError(400, "MISSING_REQUIRED_FIELD", "Missing Required Field - TokenUniqueReference")
    if not isinstance(value, str) or not _REFERENCE.fullmatch(value):
        raise CsError(400, "INVALID_FIELD_FORMAT", "Invalid Field Format - TokenUniqueReference (48 to 64)")
    return value


def _token(data: dict[str, Any]) -> SandboxToken:
    token = state().token(_reference(data))
    if token is None:
        raise CsError(400, "EMPTY_RESULT", "Empty result for the given request.", "MDES")
    return token


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, "false")
    if value not in ("true", "false"):
        raise CsError(400, "INVALID_FIELD_VALUE", f'Invalid Field Value - {name} ("true" or "false")')
    return bool(value == "true")


# --- search -------------------------------------------------------------------------------------------------------
def _account_number(data: dict[str, Any]) -> str:
    envelope = data["EncryptedAccountInformation"]
    if not isinstance(envelope, dict):
        raise CsError(400, "INVALID_FIELD_FORMAT", "Invalid Field Format - EncryptedAccountInformation")
    # The envelope is PascalCase here; the decryption is the same as Token Connect's.
    names = {"EncryptedData": "encryptedData", "EncryptedKey": "encryptedKey", "Iv": "iv"}
    names |= {"PublicKeyFingerprint": "publicKeyFingerprint", "OaepHashingAlgorithm": "oaepHashingAlgorithm"}
    sandbox_state = state()
    try:
        clear = decrypt_envelope(
            {names[key]: value for key, value in envelope.items() if key in names},
            private_key=sandbox_state.encryption_key,
            accepted_fingerprints=sandbox_state.accepted_fingerprints,
        )
        account = json.loads(clear)["CurrentAccount"]["AccountPan"]
    except PayloadDecryptionError as exc:
        raise CsError(400, "CRYPTOGRAPHY_ERROR", f"The encrypted data cannot be decrypted: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CsError(400, "INVALID_FIELD_VALUE", "EncryptedData must hold CurrentAccount.AccountPan") from exc
    if not isinstance(account, str) or not account.isdigit() or not 9 <= len(account) <= 19:
        raise CsError(400, "INVALID_FIELD_FORMAT", "Invalid Field Format - AccountPan")
    return account


def search(data: dict[str, Any]) -> Response:
    criteria = [name for name in ("EncryptedAccountInformation", "TokenUniqueReference") if name in data]
    if len(criteria) != 1:
        raise CsError(
            400, "MISSING_CONDITIONAL_FIELD", "Exactly one of EncryptedAccountInformation, TokenUniqueReference"
        )
    exclude_deleted = _flag(data, "ExcludeDeletedIndicator")
    device_only = _flag(data, "IncludeDeviceTokensOnly")
    exclude_app_deleted = _flag(data, "ExcludeTokensDeletedFromConsumerApp")
    if criteria[0] == "TokenUniqueReference":
        found = state().token(_reference(data))
        tokens = [found] if found else []
    else:
        tokens = state().tokens_of_account(_account_number(data))
    tokens = [
        token
        for token in tokens
        if not (exclude_deleted and token.status == "D")
        and not (device_only and token.token_type == CARD_ON_FILE)
        and not (exclude_app_deleted and token.deleted_from_consumer_app)
    ]
    if not tokens:
        return error_response(200, "EMPTY_RESULT", "Empty result for the given request.")
    accounts: dict[str, list[dict[str, Any]]] = {}
    for token in tokens:
        item = token.to_cs_json()
        accounts.setdefault(str(item.pop("AccountPanSuffix")), []).append(item)
    found_accounts = [{"AccountPanSuffix": suffix, "Tokens": {"Token": items}} for suffix, items in accounts.items()]
    return jsonify({"SearchResponse": {"Accounts": {"Account": found_accounts}}})


# --- lifecycle ----------------------------------------------------------------------------------------------------
def _lifecycle(wrapper: str, data: dict[str, Any]) -> tuple[SandboxToken, str, str | None, dict[str, Any], str]:
    reason_code = data.get("ReasonCode")
    if reason_code is None:
        raise CsError(400, "MISSING_REQUIRED_FIELD", "Missing Required Field - ReasonCode")
    if reason_code not in _REASONS[wrapper]:
        raise CsError(400, "INVALID_FIELD_VALUE", f"Invalid Field Value - ReasonCode ({', '.join(_REASONS[wrapper])})")
    comment = data.get("CommentText")
    if comment is not None and (not isinstance(comment, str) or not 1 <= len(comment) <= 500):
        raise CsError(400, "INVALID_FIELD_LENGTH", "Invalid Field Length - CommentText (1 to 500)")
    audit: dict[str, Any] = data["AuditInfo"]
    actor = "C" if audit["UserId"] in CARDHOLDER_USER_IDS else "I"
    return _token(data), str(reason_code), comment, audit, actor


def _answer(wrapper: str, token: SandboxToken, comment: str | None, audit: dict[str, Any]) -> Response:
    comment_id = None
    if comment is not None:
        comment_id = f"{len(token.comments) + 1:09d}"
        token.comments.append({"CommentId": comment_id, "CommentText": comment, "AuditInfo": audit})
        if token.history:
            token.history[-1].comment_id = comment_id
    result: dict[str, Any] = {"TokenUniqueReference": token.token_unique_reference}
    if comment_id:
        result["CommentId"] = comment_id
    return jsonify({wrapper.replace("Request", "Response"): {"Token": result}})


def _invalid_state(token: SandboxToken, what: str) -> CsError:
    return CsError(400, "INVALID_STATE", f"The token is {token.status}: {what}", "MDES")


def activate(data: dict[str, Any]) -> Response:
    wrapper = "TokenActivateRequest"
    token, reason_code, comment, audit, _actor = _lifecycle(wrapper, data)
    with state().lock:
        if token.status != "U":
            raise _invalid_state(token, "only a token awaiting activation can be activated")
        now = state().now()
        token.provisioning_status, token.activated_at = "S", now
        token.change("A", now, "I", reason_code=reason_code, audit_info=audit)
        return _answer(wrapper, token, comment, audit)


def suspend(data: dict[str, Any]) -> Response:
    wrapper = "TokenSuspendRequest"
    token, reason_code, comment, audit, actor = _lifecycle(wrapper, data)
    with state().lock:
        if token.status not in ("A", "S"):
            raise _invalid_state(token, "only an active or suspended token can be suspended")
        if actor in token.suspenders:
            raise CsError(400, "INVALID_STATE", "This suspender has already suspended the token", "MDES")
        token.suspenders.append(actor)
        token.change("S", state().now(), actor, reason_code=reason_code, audit_info=audit)
        return _answer(wrapper, token, comment, audit)


def unsuspend(data: dict[str, Any]) -> Response:
    wrapper = "TokenUnsuspendRequest"
    token, reason_code, comment, audit, actor = _lifecycle(wrapper, data)
    with state().lock:
        if token.status != "S":
            raise _invalid_state(token, "only a suspended token can be unsuspended")
        if actor not in token.suspenders:
            # A suspender lifts only its own suspension.
            raise CsError(400, "INVALID_STATE", "This party has not suspended the token", "MDES")
        token.suspenders.remove(actor)
        token.change("S" if token.suspenders else "A", state().now(), actor, reason_code=reason_code, audit_info=audit)
        return _answer(wrapper, token, comment, audit)


def delete(data: dict[str, Any]) -> Response:
    wrapper = "TokenDeleteRequest"
    token, reason_code, comment, audit, actor = _lifecycle(wrapper, data)
    from_app_only = _flag(data, "DeleteFromConsumerApp")
    with state().lock:
        if token.status == "D":
            raise _invalid_state(token, "a deleted token stays deleted")
        if from_app_only:
            # Removed from the device or requestor only: MDES keeps the token (and its status) for running payments.
            token.deleted_from_consumer_app = True
            token.change(token.status, state().now(), actor, reason_code=reason_code, audit_info=audit)
        else:
            token.suspenders.clear()
            token.change("D", state().now(), actor, reason_code=reason_code, audit_info=audit)
        return _answer(wrapper, token, comment, audit)


def status_history(data: dict[str, Any]) -> Response:
    token = _token(data)
    statuses = [change.to_json() for change in token.history]
    return jsonify({"TokenStatusHistoryResponse": {"Statuses": {"Status": statuses}}})


def token_requestor_search(data: dict[str, Any]) -> Response:
    trid = data.get("TokenRequestorId")
    if not isinstance(trid, str) or not trid.isdigit() or not 6 <= len(trid) <= 11:
        raise CsError(400, "INVALID_FIELD_FORMAT", "Invalid Field Format - TokenRequestorId (6 to 11 digits)")
    token_requestor = state().token_requestor(trid)
    if token_requestor is None:
        return error_response(200, "EMPTY_RESULT", "Empty result for the given request.")
    return jsonify(
        {
            "TokenRequestorSearchResponse": {
                "TokenRequestorId": token_requestor.trid,
                "TokenRequestorName": token_requestor.name,
                "TokenRequestorConsumerFacingEntityName": token_requestor.consumer_facing_name,
            }
        }
    )


_OPERATIONS: dict[str, tuple[str, str, Callable[[dict[str, Any]], Response]]] = {
    "/search": ("search", "SearchRequest", search),
    "/token/activate": ("tokenActivate", "TokenActivateRequest", activate),
    "/token/suspend": ("tokenSuspend", "TokenSuspendRequest", suspend),
    "/token/unsuspend": ("tokenUnsuspend", "TokenUnsuspendRequest", unsuspend),
    "/token/delete": ("tokenDelete", "TokenDeleteRequest", delete),
    "/token/statushistory": ("tokenStatusHistory", "TokenStatusHistoryRequest", status_history),
    "/tokenrequestorsearch": ("tokenRequestorSearch", "TokenRequestorSearchRequest", token_requestor_search),
}


def _view(operation: str, wrapper: str, handler: Callable[[dict[str, Any]], Response]) -> Callable[[], Response]:
    return lambda: _api_call(operation, wrapper, handler)


for _rule, (_operation, _wrapper, _handler) in _OPERATIONS.items():
    for _path in _routes(_rule):
        blueprint.add_url_rule(
            _path, endpoint=f"cs{_path}", view_func=_view(_operation, _wrapper, _handler), methods=["POST"]
        )
