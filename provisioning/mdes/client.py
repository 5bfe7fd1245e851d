"""TokenConnectClient: the only code of the portal that speaks to MDES.

Every call is OAuth 1.0a-signed with Mastercard's own signer over exactly the bytes sent; the funding accounts of
a push are encrypted with Mastercard's own field-level encryption library before anything else happens (encrypt
first, then sign). The transport discipline (timeouts, TLS, no redirects, connect-only retries, host allow-list,
answer size and duration caps) is provisioning.mdes.transport's, shared with the Customer Service client.

A failed push is never reported as retryable once the request may have reached MDES (MdesOutcomeUnknown):
pushMultipleAccounts is not idempotent. The two reads are, so their failures stay MdesUnavailable.

Optional settings (defaults in brackets): MDES_CONNECT_TIMEOUT_SECONDS [3.05], MDES_READ_TIMEOUT_SECONDS [10],
MDES_CONNECT_RETRIES [2], MDES_PAYLOAD_VALIDITY_MINUTES [30, Mastercard's recommended dataValidUntilTimestamp].
"""

import base64
import binascii
import dataclasses
import functools
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from client_encryption.encryption_exception import (  # type: ignore[import-untyped]
    EncryptionError,
    KeyWrappingError,
)
from client_encryption.field_level_encryption import encrypt_payload  # type: ignore[import-untyped]
from client_encryption.field_level_encryption_config import FieldLevelEncryptionConfig  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from provisioning.mdes.errors import (
    ErrorDetail,
    MdesApplicationError,
    MdesConfigurationError,
    MdesProtocolError,
)
from provisioning.mdes.transport import (
    DEFAULT_CONNECT_RETRIES,
    DEFAULT_TIMEOUT,
    Answer,
    Credentials,
    SignedTransport,
    envelope_errors,
    error_summary,
    field_level_encryption,
    file_version,
    json_object,
    observed_call,
    raise_refusal,
)
from provisioning.mdes.transport import (
    MAX_RESPONSE_BYTES as MAX_RESPONSE_BYTES,  # re-exported: part of this module's public API
)
from provisioning.mdes.types import (
    Asset,
    EligibleTokenRequestor,
    MediaContent,
    PushedAccount,
    PushFundingAccount,
    PushMethod,
    PushResult,
    SignatureData,
    UnreadableTokenRequestor,
    error_details,
    ordered_accounts,
)
from provisioning.models import NetworkConfiguration

logger = logging.getLogger(__name__)

ELIGIBLE_PATH = "/connect/1/0/getEligibleTokenRequestors"
ASSET_PATH = "/issuer-assets/1/0/asset/tokenrequestor/{asset_id}"
PUSH_PATH = "/connect/1/0/pushMultipleAccounts"
MAX_RANGES_PER_CALL = 25
# Mastercard recommends "current time + 30 minutes" for dataValidUntilTimestamp.
DEFAULT_DATA_VALIDITY_MINUTES = 30
_USER_AGENT = "push-provisioning-portal/1 (Token Connect)"


def encryption_settings(certificate_path: str, fingerprint: str | None = None) -> dict[str, Any]:
    """Mastercard's documented configuration for Token Connect (mdes-token-connect.md section 5.2), as the dict
    FieldLevelEncryptionConfig takes (the sandbox tests build their variants from it)."""
    config: dict[str, Any] = {
        "paths": {
            "$": {
                "toEncrypt": {
                    "pushFundingAccounts.encryptedPayload.encryptedData": "pushFundingAccounts.encryptedPayload"
                },
                "toDecrypt": {},
            }
        },
        "ivFieldName": "iv",
        "encryptedKeyFieldName": "encryptedKey",
        "encryptedValueFieldName": "encryptedData",
        "dataEncoding": "hex",
        "oaepPaddingDigestAlgorithm": "SHA-512",
        "encryptionCertificateFingerprintFieldName": "publicKeyFingerprint",
        "oaepPaddingDigestAlgorithmFieldName": "oaepHashingAlgorithm",
        "encryptionCertificate": certificate_path,
    }
    if fingerprint:
        config["encryptionCertificateFingerprint"] = fingerprint
    return config


def encryption_config(certificate_path: str, fingerprint: str | None = None) -> FieldLevelEncryptionConfig:
    """The push's encryption set up once per certificate file (read-only afterwards, so clients share it)."""
    modified = file_version(certificate_path, "The MDES encryption certificate cannot be loaded")
    return _encryption_config(certificate_path, modified, fingerprint)


@functools.lru_cache(maxsize=4)
def _encryption_config(certificate_path: str, modified: int, fingerprint: str | None) -> FieldLevelEncryptionConfig:
    """Parsing the certificate and hashing its key took about half a millisecond of every push."""
    return field_level_encryption(encryption_settings(certificate_path, fingerprint))


def _format_timestamp(moment: datetime) -> str:
    """ISO 8601 as MDES wants it: YYYY-MM-DDThh:mm:ss.sssZ."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _mdes_errors(payload: object) -> tuple[ErrorDetail, ...]:
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return ()
    try:
        return error_details(payload["errors"])
    except MdesProtocolError:
        return ()


def _decode_jws_payload(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise MdesProtocolError("The signature MDES returned is not a compact JWS")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise MdesProtocolError("The payload of the signature MDES returned cannot be read") from exc
    if not isinstance(payload, dict):
        raise MdesProtocolError("The payload of the signature MDES returned is not an object")
    return payload


def _check_signed_payload(payload: Mapping[str, Any], receipts: Sequence[str], sent: SignatureData | None) -> None:
    """The JWS is MDES's echo of the request: its receipts and values must be those of this push."""
    signed_receipts = payload.get("pushAccountReceipts")
    if not isinstance(signed_receipts, list) or sorted(map(str, signed_receipts)) != sorted(receipts):
        raise MdesProtocolError("The signature MDES returned covers other receipts than it issued")
    sent_values = sent.to_json() if sent else {}
    for name, value in sent_values.items():
        if name in payload and payload[name] != value:
            raise MdesProtocolError(f"The signature MDES returned covers another {name} than was sent")


class TokenConnectClient:
    def __init__(
        self,
        *,
        base_url: str,
        environment: str,
        consumer_key: str,
        signing_key: rsa.RSAPrivateKey,
        encryption_certificate_path: str,
        encryption_key_fingerprint: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        connect_retries: int = DEFAULT_CONNECT_RETRIES,
        data_valid_for: timedelta = timedelta(minutes=DEFAULT_DATA_VALIDITY_MINUTES),
        session: requests.Session | None = None,
    ) -> None:
        """`environment` is the NetworkConfiguration's: it chooses the hosts `base_url` may name."""
        self._transport = SignedTransport(
            base_url=base_url,
            environment=environment,
            consumer_key=consumer_key,
            signing_key=signing_key,
            timeout=timeout,
            connect_retries=connect_retries,
            session=session,
            user_agent=_USER_AGENT,
        )
        self._encryption = encryption_config(encryption_certificate_path, encryption_key_fingerprint)
        self._data_valid_for = data_valid_for

    @classmethod
    def from_configuration(cls, config: NetworkConfiguration) -> "TokenConnectClient":
        """A client for `config`; the .p12 password comes from the environment variable the config names."""
        return cls(
            base_url=config.base_url,
            **Credentials.of(config).as_arguments(),
            data_valid_for=timedelta(minutes=float(settings.MDES_PAYLOAD_VALIDITY_MINUTES)),
        )

    # --- operations ------------------------------------------------------------------------------------------------
    def get_eligible_token_requestors(
        self,
        account_ranges: Sequence[str],
        *,
        request_id: str | None = None,
        unreadable: Callable[[UnreadableTokenRequestor], None] | None = None,
    ) -> tuple[EligibleTokenRequestor, ...]:
        """Token requestors enabled for any of the ranges, asked 25 ranges at a time and merged by TRID.

        An entry that cannot be read fails the call (MdesProtocolError), unless `unreadable` is given: it is then
        told of the entry, and the others are returned.
        """
        ranges = list(dict.fromkeys(account_ranges))
        batches = [ranges[start : start + MAX_RANGES_PER_CALL] for start in range(0, len(ranges), MAX_RANGES_PER_CALL)]
        base_id = (request_id or str(uuid.uuid4()))[:60]
        merged: dict[str, EligibleTokenRequestor] = {}
        for number, batch in enumerate(batches, start=1):
            batch_id = base_id if len(batches) == 1 else f"{base_id}-{number}"
            payload = self._call(
                "POST",
                ELIGIBLE_PATH,
                {"requestId": batch_id, "accountRanges": batch},
                batch_id,
                idempotent=True,
                operation="getEligibleTokenRequestors",
            )
            for item in self._result_list(payload, "tokenRequestors", batch_id):
                try:
                    token_requestor = EligibleTokenRequestor.from_json(item)
                except MdesProtocolError as exc:
                    if unreadable is None:
                        raise
                    unreadable(UnreadableTokenRequestor.of(item, exc))
                    continue
                merged[token_requestor.token_requestor_id] = _merge(
                    merged.get(token_requestor.token_requestor_id), token_requestor
                )
        return tuple(merged.values())

    def get_asset(self, asset_id: str) -> Asset:
        """A token requestor logo (or other asset). Assets never change: cache them forever by id."""
        path = ASSET_PATH.format(asset_id=quote(asset_id, safe=""))
        payload = self._call("GET", path, None, None, idempotent=True, operation="getAsset")
        items = self._result_list(payload, "mediaContents", None)
        return Asset(asset_id=asset_id, media_contents=tuple(MediaContent.from_json(item) for item in items))

    def push_multiple_accounts(
        self,
        *,
        token_requestor_id: str,
        funding_accounts: Sequence[PushFundingAccount],
        signature_data: SignatureData | None = None,
        request_issuer_initiated_digitization_data: bool = False,
        receipts_validity_minutes: int | None = None,
        authentication_code: str | None = None,
        request_id: str | None = None,
    ) -> PushResult:
        """Push cards to one token requestor. Each account gets a receipt or its own errors (partial success)."""
        request_id = request_id or str(uuid.uuid4())
        body = self._encrypted_push_body(
            request_id=request_id,
            token_requestor_id=token_requestor_id,
            funding_accounts=funding_accounts,
            signature_data=signature_data,
            request_issuer_initiated_digitization_data=request_issuer_initiated_digitization_data,
            receipts_validity_minutes=receipts_validity_minutes,
            authentication_code=authentication_code,
        )
        # Not idempotent: MDES issues new receipts for every push it processes.
        payload = self._call("POST", PUSH_PATH, body, request_id, idempotent=False, operation="pushMultipleAccounts")
        result = self._push_result(payload, request_id, [a.push_account_id for a in funding_accounts], signature_data)
        logger.info(
            "MDES push: %d receipt(s), %d refused",
            len(result.succeeded),
            len(result.failed),
            extra={
                "mdes_request_id": request_id,
                "token_requestor_id": token_requestor_id,
                "receipt_hints": [account.receipt_hint for account in result.succeeded],
                "refusals": [code for account in result.failed for code in (e.reason_code for e in account.errors)],
            },
        )
        return result

    # --- request building --------------------------------------------------------------------------------------------
    def _funding_account_json(self, account: PushFundingAccount) -> dict[str, Any]:
        valid_until = account.data_valid_until or datetime.now(UTC) + self._data_valid_for
        data: dict[str, Any] = {
            "dataValidUntilTimestamp": _format_timestamp(valid_until),
            "cardAccountData": dict(account.card_account_data),
        }
        if account.account_holder_data is not None:
            data["accountHolderData"] = account.account_holder_data.to_json()
        return {"pushAccountId": account.push_account_id, "fundingAccountData": data}

    def _encrypted_push_body(
        self,
        *,
        request_id: str,
        token_requestor_id: str,
        funding_accounts: Sequence[PushFundingAccount],
        signature_data: SignatureData | None,
        request_issuer_initiated_digitization_data: bool,
        receipts_validity_minutes: int | None,
        authentication_code: str | None,
    ) -> dict[str, Any]:
        clear: dict[str, Any] = {
            "requestId": request_id,
            "tokenRequestorId": token_requestor_id,
            "pushFundingAccounts": {
                "encryptedPayload": {"encryptedData": [self._funding_account_json(a) for a in funding_accounts]}
            },
        }
        if signature_data is not None:
            clear["signatureData"] = signature_data.to_json()
        if request_issuer_initiated_digitization_data:
            clear["requestIssuerInitiatedDigitizationData"] = True
        if receipts_validity_minutes is not None:
            clear["pushAccountReceiptsValidityPeriod"] = receipts_validity_minutes
        if authentication_code is not None:
            clear["authenticationCode"] = authentication_code
        try:
            encrypted: dict[str, Any] = encrypt_payload(clear, self._encryption)
        except (EncryptionError, KeyWrappingError):
            # The library's cause may quote the payload: do not chain it.
            raise MdesConfigurationError("The funding accounts could not be encrypted") from None
        return encrypted

    # --- transport ---------------------------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        request_id: str | None,
        *,
        idempotent: bool,
        operation: str,
    ) -> dict[str, Any]:
        """One exchange with MDES. Only the push is not idempotent: MDES issues new receipts for each one."""
        with observed_call(operation) as answered:
            answer = self._transport.exchange(
                method,
                path,
                body,
                request_id,
                idempotent=idempotent,
                lost_answer="after the push was sent: whether it issued receipts is unknown",
            )
            answered(answer.status)
            return self._decode(answer, idempotent)

    @staticmethod
    def _decode(answer: Answer, idempotent: bool) -> dict[str, Any]:
        payload = answer.json()
        if 200 <= answer.status < 300:
            return json_object(answer, payload)
        gateway, application = envelope_errors(payload), _mdes_errors(payload)
        response_id = payload.get("responseId") if isinstance(payload, dict) else None
        raise_refusal(
            answer,
            errors=gateway or application,
            gateway=gateway,
            idempotent=idempotent,
            unknown_outcome="whether it issued receipts is unknown",
            response_id=response_id if isinstance(response_id, str) else None,
        )

    @staticmethod
    def _result_list(payload: dict[str, Any], key: str, request_id: str | None) -> list[Any]:
        """The operation's result array; errors in a 200 without it are a refusal (MDES answers both ways)."""
        items = payload.get(key)
        if items is None:
            errors = _mdes_errors(payload)
            if errors:
                response_id = payload.get("responseId")
                raise MdesApplicationError(
                    f"MDES refused the request: {error_summary(errors)}",
                    status=200,
                    errors=errors,
                    response_id=response_id if isinstance(response_id, str) else None,
                )
            raise MdesProtocolError(f"MDES's answer has no {key}")
        if not isinstance(items, list):
            raise MdesProtocolError(f"{key} is not an array")
        response_id = payload.get("responseId")
        if request_id is not None and response_id != request_id:
            logger.warning(
                "MDES answered with another responseId than the requestId", extra={"mdes_request_id": request_id}
            )
        return items

    def _push_result(
        self,
        payload: dict[str, Any],
        request_id: str,
        push_account_ids: Sequence[str],
        signature_data: SignatureData | None,
    ) -> PushResult:
        items = self._result_list(payload, "pushAccountReceipts", request_id)
        accounts = ordered_accounts([PushedAccount.from_json(item) for item in items], push_account_ids)
        receipts = [account.receipt for account in accounts if account.receipt is not None]
        signature = payload.get("signature")
        if signature is not None and not isinstance(signature, str):
            raise MdesProtocolError("signature is not a string")
        signed_payload = None
        if signature:
            signed_payload = _decode_jws_payload(signature)
            _check_signed_payload(signed_payload, receipts, signature_data)
        support = payload.get("tokenRequestorSignatureSupport")
        return PushResult(
            request_id=request_id,
            response_id=str(payload.get("responseId", "")),
            accounts=accounts,
            available_push_methods=tuple(PushMethod.from_json(m) for m in payload.get("availablePushMethods") or []),
            token_requestor_signature_support=support if isinstance(support, bool) else None,
            signature=signature or None,
            signed_payload=signed_payload,
            sent_signature_data=signature_data,
            errors=_mdes_errors(payload),
        )


def _merge(known: EligibleTokenRequestor | None, new: EligibleTokenRequestor) -> EligibleTokenRequestor:
    """One entry per TRID across batches, with the union of the enabled ranges."""
    if known is None:
        return new
    ranges = tuple(dict.fromkeys(known.enabled_account_ranges + new.enabled_account_ranges))
    return dataclasses.replace(known, enabled_account_ranges=ranges)
