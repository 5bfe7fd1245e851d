"""CustomerServiceClient: the MDES Customer Service API (token lifecycle), beside TokenConnectClient.

Same transport as Token Connect (provisioning.mdes.transport: OAuth 1.0a with Mastercard's signer, timeouts,
connect-only retries, host allow-list, capped answers); the account number of a search is encrypted with
Mastercard's field-level encryption library. Bodies are PascalCase and wrapped; every call carries AuditInfo;
reason codes are checked against their enumerations before anything is sent.

Errors come in one envelope, `{"Errors": {"Error": [{Source, ReasonCode, ErrorCode, Description, Recoverable}]}}`:
Source `Gateway` -> MdesGatewayError; otherwise MdesApplicationError (4xx, or errors inside a 200); 5xx and 429 ->
MdesUnavailable for reads. A lifecycle change (activate, suspend, unsuspend, delete) whose answer is lost (timeout,
broken connection, 5xx) is MdesOutcomeUnknown: MDES may have applied it; search to find out.
EMPTY_RESULT answering a search is an empty result, not an error: the specification documents it with HTTP 200 for
search ("searching based on a Real Card Number ... will return an 'EMPTY_RESULT' with a HTTP 200"). Elsewhere (W3
gives HTTP 400 for update) it stays an MdesApplicationError.

Settings: MDES_CONNECT_TIMEOUT_SECONDS, MDES_READ_TIMEOUT_SECONDS, MDES_CONNECT_RETRIES (shared with Token Connect);
MDES_CS_CARDHOLDER_REFERENCE_IN ["CommentText"]: where a self-service call puts the cardholder reference, the
[INFERRED] CommentText (calls without a comment then carry the service identity alone) or "UserName".
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from client_encryption.encryption_exception import (  # type: ignore[import-untyped]
    EncryptionError,
    KeyWrappingError,
)
from client_encryption.field_level_encryption import encrypt_payload  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from provisioning.mdes.customer_service_types import (
    ActivateReason,
    AuditInfo,
    DeleteReason,
    SearchOptions,
    SearchResult,
    StatusChange,
    SuspendReason,
    TokenActionResult,
    TokenRequestorInfo,
    UnsuspendReason,
    check_comment,
    check_token_requestor_id,
    check_token_unique_reference,
    reason,
    status_history_from_json,
)
from provisioning.mdes.errors import MdesApplicationError, MdesConfigurationError, MdesProtocolError
from provisioning.mdes.transport import (
    DEFAULT_CONNECT_RETRIES,
    DEFAULT_TIMEOUT,
    Answer,
    Credentials,
    SignedTransport,
    envelope_errors,
    field_level_encryption,
    json_object,
    observed_call,
    raise_refusal,
)
from provisioning.models import NetworkConfiguration

logger = logging.getLogger(__name__)

SEARCH_PATH = "/search"
ACTIVATE_PATH = "/token/activate"
SUSPEND_PATH = "/token/suspend"
UNSUSPEND_PATH = "/token/unsuspend"
DELETE_PATH = "/token/delete"
STATUS_HISTORY_PATH = "/token/statushistory"
TOKEN_REQUESTOR_SEARCH_PATH = "/tokenrequestorsearch"  # noqa: S105 - a path, not a secret
EMPTY_RESULT = "EMPTY_RESULT"
_USER_AGENT = "push-provisioning-portal/1 (Customer Service)"
_ENCRYPTED_PATH = "SearchRequest.EncryptedAccountInformation"
ALL_TOKENS = SearchOptions()
_T = TypeVar("_T")


def search_encryption_settings(certificate_path: str, fingerprint: str | None = None) -> dict[str, Any]:
    """Mastercard's field-level encryption of a search by account number, as FieldLevelEncryptionConfig takes it:
    `SearchRequest.EncryptedAccountInformation.EncryptedData` (`{"CurrentAccount": {"AccountPan": ...}}`) is
    replaced by EncryptedData, EncryptedKey, Iv, PublicKeyFingerprint and OaepHashingAlgorithm (PascalCase)."""
    config: dict[str, Any] = {
        "paths": {"$": {"toEncrypt": {f"{_ENCRYPTED_PATH}.EncryptedData": _ENCRYPTED_PATH}, "toDecrypt": {}}},
        "ivFieldName": "Iv",
        "encryptedKeyFieldName": "EncryptedKey",
        "encryptedValueFieldName": "EncryptedData",
        "dataEncoding": "hex",
        "oaepPaddingDigestAlgorithm": "SHA-512",
        "encryptionCertificateFingerprintFieldName": "PublicKeyFingerprint",
        "oaepPaddingDigestAlgorithmFieldName": "OaepHashingAlgorithm",
        "encryptionCertificate": certificate_path,
    }
    if fingerprint:
        config["encryptionCertificateFingerprint"] = fingerprint
    return config


class CustomerServiceClient:
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
        cardholder_reference_in: str = "CommentText",
        session: requests.Session | None = None,
    ) -> None:
        """`base_url` includes the endpoint iteration (`.../mdes/csapi/v2`); its host must be allowed for
        `environment`, as for Token Connect."""
        if cardholder_reference_in not in ("CommentText", "UserName"):
            raise MdesConfigurationError("MDES_CS_CARDHOLDER_REFERENCE_IN must be CommentText or UserName")
        self._transport = SignedTransport(
            base_url=base_url,
            environment=environment,
            consumer_key=consumer_key,
            signing_key=signing_key,
            timeout=timeout,
            connect_retries=connect_retries,
            session=session,
            user_agent=_USER_AGENT,
            url_label="MDES Customer Service base URL",
        )
        self._encryption = field_level_encryption(
            search_encryption_settings(encryption_certificate_path, encryption_key_fingerprint)
        )
        self._reference_in_user_name = cardholder_reference_in == "UserName"

    @classmethod
    def from_configuration(
        cls, config: NetworkConfiguration, *, timeout: tuple[float, float] | None = None
    ) -> "CustomerServiceClient":
        arguments = Credentials.of(config).as_arguments()
        if timeout is not None:
            arguments["timeout"] = timeout
        return cls(
            base_url=config.effective_customer_service_base_url,
            **arguments,
            cardholder_reference_in=str(settings.MDES_CS_CARDHOLDER_REFERENCE_IN),
        )

    # --- searches ----------------------------------------------------------------------------------------------------
    def search_by_token_unique_reference(
        self, token_unique_reference: str, *, audit: AuditInfo, options: SearchOptions = ALL_TOKENS
    ) -> SearchResult:
        body = {
            "TokenUniqueReference": check_token_unique_reference(token_unique_reference),
            **options.to_json(),
            "AuditInfo": self._audit(audit),
        }
        return self._search({"SearchRequest": body})

    def search_by_account_number(
        self, account_number: str, *, audit: AuditInfo, options: SearchOptions = ALL_TOKENS
    ) -> SearchResult:
        """Every token of the card. The number travels only inside the encrypted EncryptedAccountInformation."""
        if not account_number.isdigit() or not 9 <= len(account_number) <= 19:
            raise ValueError("An account number is 9 to 19 digits")
        clear = {
            "SearchRequest": {
                "EncryptedAccountInformation": {"EncryptedData": {"CurrentAccount": {"AccountPan": account_number}}},
                **options.to_json(),
                "AuditInfo": self._audit(audit),
            }
        }
        try:
            body: dict[str, Any] = encrypt_payload(clear, self._encryption)
        except (EncryptionError, KeyWrappingError):
            # The library's cause may quote the payload: do not chain it.
            raise MdesConfigurationError("The account number could not be encrypted") from None
        return self._search(body)

    def _search(self, body: Mapping[str, Any]) -> SearchResult:
        try:
            payload = self._call(SEARCH_PATH, body, idempotent=True, operation="csSearch")
        except MdesApplicationError as exc:
            if exc.reason_codes and all(code == EMPTY_RESULT for code in exc.reason_codes):
                return SearchResult(tokens=())
            raise
        return self._parsed(lambda: SearchResult.from_json(payload))

    def token_requestor(self, token_requestor_id: str, *, audit: AuditInfo) -> TokenRequestorInfo:
        body = {
            "TokenRequestorSearchRequest": {
                "TokenRequestorId": check_token_requestor_id(token_requestor_id),
                "AuditInfo": self._audit(audit),
            }
        }
        payload = self._call(TOKEN_REQUESTOR_SEARCH_PATH, body, idempotent=True, operation="csTokenRequestorSearch")
        return self._parsed(lambda: TokenRequestorInfo.from_json(payload))

    def status_history(self, token_unique_reference: str, *, audit: AuditInfo) -> tuple[StatusChange, ...]:
        body = {
            "TokenStatusHistoryRequest": {
                "TokenUniqueReference": check_token_unique_reference(token_unique_reference),
                "AuditInfo": self._audit(audit),
            }
        }
        payload = self._call(STATUS_HISTORY_PATH, body, idempotent=True, operation="csStatusHistory")
        return self._parsed(lambda: status_history_from_json(payload))

    # --- lifecycle ---------------------------------------------------------------------------------------------------
    def activate(
        self,
        token_unique_reference: str,
        *,
        reason_code: ActivateReason | str,
        audit: AuditInfo,
        comment: str | None = None,
    ) -> TokenActionResult:
        return self._action(
            ACTIVATE_PATH, "TokenActivate", token_unique_reference, reason(ActivateReason, reason_code), audit, comment
        )

    def suspend(
        self, token_unique_reference: str, *, reason_code: SuspendReason | str, audit: AuditInfo, comment: str | None
    ) -> TokenActionResult:
        return self._action(
            SUSPEND_PATH, "TokenSuspend", token_unique_reference, reason(SuspendReason, reason_code), audit, comment
        )

    def unsuspend(
        self, token_unique_reference: str, *, reason_code: UnsuspendReason | str, audit: AuditInfo, comment: str | None
    ) -> TokenActionResult:
        code = reason(UnsuspendReason, reason_code)
        return self._action(UNSUSPEND_PATH, "TokenUnsuspend", token_unique_reference, code, audit, comment)

    def delete(
        self,
        token_unique_reference: str,
        *,
        reason_code: DeleteReason | str,
        audit: AuditInfo,
        comment: str | None,
        from_consumer_app_only: bool,
    ) -> TokenActionResult:
        """`from_consumer_app_only`: DeleteFromConsumerApp "true", removed from the device or token requestor only
        and kept active in MDES (subscriptions keep working); False deletes it everywhere, permanently."""
        code = reason(DeleteReason, reason_code)
        extra = {"DeleteFromConsumerApp": "true" if from_consumer_app_only else "false"}
        return self._action(DELETE_PATH, "TokenDelete", token_unique_reference, code, audit, comment, extra)

    def _action(
        self,
        path: str,
        name: str,
        token_unique_reference: str,
        reason_code: str,
        audit: AuditInfo,
        comment: str | None,
        extra: Mapping[str, str] | None = None,
    ) -> TokenActionResult:
        body: dict[str, Any] = {
            "TokenUniqueReference": check_token_unique_reference(token_unique_reference),
            "ReasonCode": reason_code,
            **(extra or {}),
        }
        comment_text = self._comment(check_comment(comment), audit)
        if comment_text is not None:
            body["CommentText"] = comment_text
        body["AuditInfo"] = self._audit(audit)
        payload = self._call(path, {f"{name}Request": body}, idempotent=False, operation=f"cs{name}")
        result = self._parsed(lambda: TokenActionResult.from_json(payload, f"{name}Response"))
        logger.info(
            "MDES Customer Service %s %s", name, reason_code, extra={"token_unique_reference": token_unique_reference}
        )
        return result

    def _comment(self, comment: str | None, audit: AuditInfo) -> str | None:
        if self._reference_in_user_name or not audit.cardholder_reference:
            return comment
        marked = f"Cardholder {audit.cardholder_reference}"
        return f"{marked}: {comment}"[:500] if comment else marked

    def _audit(self, audit: AuditInfo) -> dict[str, str]:
        return audit.to_json(reference_in_user_name=self._reference_in_user_name)

    # --- answers -----------------------------------------------------------------------------------------------------
    @staticmethod
    def _parsed(build: Callable[[], _T]) -> _T:
        try:
            return build()
        except MdesProtocolError:
            raise
        except (TypeError, ValueError) as exc:
            raise MdesProtocolError("MDES's Customer Service answer cannot be read") from exc

    def _call(self, path: str, body: Mapping[str, Any], *, idempotent: bool, operation: str) -> dict[str, Any]:
        with observed_call(operation) as answered:
            answer = self._transport.exchange(
                "POST",
                path,
                body,
                None,
                idempotent=idempotent,
                lost_answer="after the change was sent: whether MDES applied it is unknown",
            )
            answered(answer.status)
            return self._decode_answer(answer, idempotent=idempotent)

    @staticmethod
    def _decode_answer(answer: Answer, *, idempotent: bool) -> dict[str, Any]:
        """Refusals come as errors in the envelope, with any status, 200 included."""
        payload = answer.json()
        errors = envelope_errors(payload)
        if 200 <= answer.status < 300 and not errors:
            return json_object(answer, payload)
        raise_refusal(
            answer,
            errors=errors,
            gateway=tuple(error for error in errors if error.source.lower() == "gateway"),
            idempotent=idempotent,
            unknown_outcome="whether it applied the change is unknown",
        )
