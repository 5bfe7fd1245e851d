"""MDES's issuer services on the wire (W2, v2.0.21): reading its requests, and its error shape.

Every request is a JSON object; fields are checked for presence, type and length as W2 states them, and anything
else in a body is ignored (MDES adds fields without notice). A failure is an IssuerServiceError, answered as
`ErrorsResponse{responseId, errorCode, errorDescription}`, never a server error.
"""

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.json_limits import json_loads_bounded

_MAX_DEPTH = 10
TOKEN_UNIQUE_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
TRID = re.compile(r"[0-9]{11}")
HEX = re.compile(r"[0-9A-Fa-f]+")


class ErrorCode(enum.StrEnum):
    INVALID_JSON = "INVALID_JSON"
    MISSING_REQUIRED_FIELD = "MISSING_REQUIRED_FIELD"
    INVALID_FIELD_FORMAT = "INVALID_FIELD_FORMAT"
    INVALID_FIELD_LENGTH = "INVALID_FIELD_LENGTH"
    INVALID_FIELD_VALUE = "INVALID_FIELD_VALUE"
    CRYPTOGRAPHY_ERROR = "CRYPTOGRAPHY_ERROR"
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"  # noqa: S105 - an error code: a token the portal was never asked about
    NOT_DELIVERED = "NOT_DELIVERED"  # the code could not be sent
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    REPLAYED_REQUEST = "REPLAYED_REQUEST"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_FOUND = "NOT_FOUND"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class IssuerServiceError(Exception):
    """A request the portal does not act on: `status` and `code` for MDES, `description` for MDES and the record."""

    def __init__(self, code: ErrorCode, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description[:256]
        self.status = status


def errors_response(response_id: str, code: str, description: str) -> dict[str, str]:
    return {"responseId": response_id[:64], "errorCode": code[:32], "errorDescription": description[:256]}


def body_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object (INVALID_JSON otherwise: not UTF-8, not JSON, too deep, not an object)."""
    if len(raw) > settings.ISSUER_SERVICES_MAX_BODY_BYTES:
        raise IssuerServiceError(ErrorCode.REQUEST_TOO_LARGE, "The body is larger than any MDES sends", status=413)
    try:
        data = json_loads_bounded(raw.decode("utf-8"), max_depth=_MAX_DEPTH)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IssuerServiceError(ErrorCode.INVALID_JSON, "The body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise IssuerServiceError(ErrorCode.INVALID_JSON, "The body is not a JSON object")
    return data


def request_id_of(data: object) -> str:
    """The requestId to echo as responseId, as far as it can be read (errors are answered with it too)."""
    value = data.get("requestId") if isinstance(data, dict) else None
    return value if isinstance(value, str) and 1 <= len(value) <= 64 else ""


def text(
    data: dict[str, Any],
    name: str,
    *,
    max_length: int,
    min_length: int = 1,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
    path: str = "",
) -> str:
    """A string field ('' when optional and absent)."""
    label = f"{path}{name}"
    value = data.get(name)
    if value is None:
        if required:
            raise IssuerServiceError(ErrorCode.MISSING_REQUIRED_FIELD, f"Missing required field - {label}")
        return ""
    if not isinstance(value, str):
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_FORMAT, f"Invalid field format - {label}")
    if not min_length <= len(value) <= max_length:
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_LENGTH, f"Invalid field length - {label}")
    if pattern is not None and not pattern.fullmatch(value):
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_FORMAT, f"Invalid field format - {label}")
    return value


def obj(data: dict[str, Any], name: str, *, required: bool = True, path: str = "") -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        if required:
            raise IssuerServiceError(ErrorCode.MISSING_REQUIRED_FIELD, f"Missing required field - {path}{name}")
        return {}
    if not isinstance(value, dict):
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_FORMAT, f"Invalid field format - {path}{name}")
    return value


def text_list(
    data: dict[str, Any], name: str, *, required: bool = True, max_items: int = 20, max_length: int = 64
) -> list[str]:
    value = data.get(name)
    if value is None:
        if required:
            raise IssuerServiceError(ErrorCode.MISSING_REQUIRED_FIELD, f"Missing required field - {name}")
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and 0 < len(item) <= max_length for item in value):
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_FORMAT, f"Invalid field format - {name}")
    if len(value) > max_items:
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_LENGTH, f"Invalid field length - {name}")
    return list(value)


def score(data: dict[str, Any], name: str, *, path: str) -> int | None:
    """A wallet's score, "1" to "5" (W2 types it as a string); anything else counts as no score."""
    value = text(data, name, max_length=64, required=False, path=path)
    return int(value) if value.isdigit() and 1 <= int(value) <= 5 else None


# --- the requests ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceInfo:
    device_name: str = ""
    serial_number: str = ""
    form_factor: str = ""
    os_name: str = ""

    @classmethod
    def read(cls, data: dict[str, Any]) -> "DeviceInfo":
        device = obj(data, "deviceInfo", required=False)
        return cls(
            device_name=text(device, "deviceName", max_length=64, required=False, path="deviceInfo."),
            serial_number=text(device, "serialNumber", max_length=64, required=False, path="deviceInfo."),
            form_factor=text(device, "formFactor", max_length=64, required=False, path="deviceInfo."),
            os_name=text(device, "osName", max_length=32, required=False, path="deviceInfo."),
        )


@dataclass(frozen=True)
class WalletDecisioning:
    recommended_decision: str = ""
    device_score: int | None = None
    account_score: int | None = None
    reasons: tuple[str, ...] = ()

    @classmethod
    def read(cls, data: dict[str, Any]) -> "WalletDecisioning":
        path = "walletProviderDecisioningInfo."
        info = obj(data, "walletProviderDecisioningInfo", required=False)
        reasons = info.get("recommendationReasons")
        return cls(
            recommended_decision=text(info, "recommendedDecision", max_length=64, required=False, path=path),
            device_score=score(info, "deviceScore", path=path),
            account_score=score(info, "accountScore", path=path),
            reasons=tuple(r[:64] for r in reasons[:20] if isinstance(r, str)) if isinstance(reasons, list) else (),
        )


@dataclass(frozen=True)
class FundingAccountInfo:
    """fundingAccountInfo: the token's reference and the encrypted payload (opened by funding_accounts)."""

    token_unique_reference: str
    encrypted_payload: dict[str, Any] = field(repr=False)

    @classmethod
    def read(cls, data: dict[str, Any], *, reference_required: bool) -> "FundingAccountInfo":
        info = obj(data, "fundingAccountInfo")
        path = "fundingAccountInfo."
        reference = text(
            info,
            "tokenUniqueReference",
            max_length=64,
            required=reference_required,
            pattern=TOKEN_UNIQUE_REFERENCE,
            path=path,
        )
        payload = obj(info, "encryptedPayload", path=path)
        envelope = f"{path}encryptedPayload."
        text(payload, "encryptedData", max_length=512 * 1024, pattern=HEX, path=envelope)
        text(payload, "publicKeyFingerprint", min_length=32, max_length=64, pattern=HEX, path=envelope)
        text(payload, "encryptedKey", min_length=32, max_length=512, pattern=HEX, path=envelope)
        text(payload, "iv", min_length=32, max_length=32, required=False, pattern=HEX, path=envelope)
        algorithm = text(payload, "oaepHashingAlgorithm", min_length=6, max_length=6, required=False, path=envelope)
        if algorithm and algorithm not in ("SHA256", "SHA512"):
            raise IssuerServiceError(
                ErrorCode.INVALID_FIELD_VALUE, f"Invalid field value - {envelope}oaepHashingAlgorithm"
            )
        return cls(token_unique_reference=reference, encrypted_payload=payload)


@dataclass(frozen=True)
class AuthorizeServiceRequest:
    """authorizeService, and requestActivationMethods (the same fields, fewer of them)."""

    request_id: str
    services: tuple[str, ...]
    correlation_id: str
    token_type: str
    funding: FundingAccountInfo
    token_requestor_id: str = ""
    wallet_id: str = ""
    payment_app_instance_id: str = ""
    consumer_facing_name: str = ""
    active_token_count: int | None = None
    device: DeviceInfo = DeviceInfo()
    wallet: WalletDecisioning = WalletDecisioning()

    @classmethod
    def read(cls, data: dict[str, Any]) -> "AuthorizeServiceRequest":
        count = text(data, "activeTokenCount", max_length=2, required=False)
        return cls(
            request_id=text(data, "requestId", max_length=64),
            services=tuple(text_list(data, "services")),
            correlation_id=text(data, "correlationId", max_length=14),
            token_type=text(data, "tokenType", max_length=16),
            funding=FundingAccountInfo.read(data, reference_required=False),
            token_requestor_id=text(data, "tokenRequestorId", max_length=11, required=False, pattern=TRID),
            wallet_id=text(data, "walletId", max_length=3, required=False),
            payment_app_instance_id=text(data, "paymentAppInstanceId", max_length=48, required=False),
            consumer_facing_name=text(data, "consumerFacingEntityName", max_length=100, required=False),
            active_token_count=int(count) if count.isdigit() else None,
            device=DeviceInfo.read(data),
            wallet=WalletDecisioning.read(data),
        )


@dataclass(frozen=True)
class ActivationMethod:
    type: str
    value: str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True)
class DeliverActivationCodeRequest:
    request_id: str
    token_unique_reference: str
    correlation_id: str
    method: ActivationMethod
    activation_code: str = field(default="", repr=False)  # MDES's own code, when it makes them
    expiration: str = ""

    @classmethod
    def read(cls, data: dict[str, Any]) -> "DeliverActivationCodeRequest":
        method = obj(data, "activationMethod")
        code = text(data, "activationCode", max_length=32, required=False)
        expiration = text(data, "expirationDateTime", min_length=20, max_length=29, required=code != "")
        return cls(
            request_id=text(data, "requestId", max_length=64),
            token_unique_reference=text(data, "tokenUniqueReference", max_length=64, pattern=TOKEN_UNIQUE_REFERENCE),
            correlation_id=text(data, "correlationId", max_length=14),
            method=ActivationMethod(
                type=text(method, "type", max_length=64, path="activationMethod."),
                value=text(method, "value", max_length=64, path="activationMethod."),
            ),
            activation_code=code,
            expiration=expiration,
        )


@dataclass(frozen=True)
class ValidateActivationCodeRequest:
    request_id: str
    token_unique_reference: str
    correlation_id: str
    activation_code: str = field(repr=False)

    @classmethod
    def read(cls, data: dict[str, Any]) -> "ValidateActivationCodeRequest":
        return cls(
            request_id=text(data, "requestId", max_length=64),
            token_unique_reference=text(data, "tokenUniqueReference", max_length=64, pattern=TOKEN_UNIQUE_REFERENCE),
            correlation_id=text(data, "correlationId", max_length=14),
            activation_code=text(data, "activationCode", max_length=32),
        )


@dataclass(frozen=True)
class NotifyServiceActivatedRequest:
    request_id: str
    correlation_id: str
    token_requestor_id: str
    decision: str
    activated_at: str
    funding: FundingAccountInfo
    wallet_id: str = ""
    device: DeviceInfo = DeviceInfo()

    @classmethod
    def read(cls, data: dict[str, Any]) -> "NotifyServiceActivatedRequest":
        decision = text(data, "decision", max_length=64)
        if decision not in ("APPROVED", "REQUIRE_ADDITIONAL_AUTHENTICATION"):
            raise IssuerServiceError(ErrorCode.INVALID_FIELD_VALUE, "Invalid field value - decision")
        text_list(data, "services")
        text(data, "tokenType", max_length=16)
        text(data, "accountPanSuffix", min_length=4, max_length=8)
        text(data, "serviceRequestDateTime", min_length=20, max_length=29)
        return cls(
            request_id=text(data, "requestId", max_length=64),
            correlation_id=text(data, "correlationId", max_length=14),
            token_requestor_id=text(data, "tokenRequestorId", min_length=11, max_length=11, pattern=TRID),
            decision=decision,
            activated_at=text(data, "tokenActivatedDateTime", min_length=20, max_length=29),
            funding=FundingAccountInfo.read(data, reference_required=True),
            wallet_id=text(data, "walletId", max_length=3, required=False),
            device=DeviceInfo.read(data),
        )


@dataclass(frozen=True)
class UpdatedToken:
    token_unique_reference: str
    status: str = ""
    suspended_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotifyTokenUpdatedRequest:
    request_id: str
    reason_code: str
    tokens: tuple[UpdatedToken, ...]

    @classmethod
    def read(cls, data: dict[str, Any]) -> "NotifyTokenUpdatedRequest":
        request_id = text(data, "requestId", max_length=64)
        reason = text(data, "reasonCode", max_length=32)
        items = data.get("tokens")
        if items is None:
            raise IssuerServiceError(ErrorCode.MISSING_REQUIRED_FIELD, "Missing required field - tokens")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise IssuerServiceError(ErrorCode.INVALID_FIELD_FORMAT, "Invalid field format - tokens")
        if not 1 <= len(items) <= 100:
            raise IssuerServiceError(ErrorCode.INVALID_FIELD_LENGTH, "Invalid field length - tokens")
        tokens = []
        for item in items:
            status = text(item, "status", max_length=32, required=reason == "STATUS_UPDATE", path="tokens[].")
            suspended_by = tuple(text_list(item, "suspendedBy", required=False, max_items=10, max_length=32))
            tokens.append(
                UpdatedToken(
                    token_unique_reference=text(
                        item, "tokenUniqueReference", max_length=64, pattern=TOKEN_UNIQUE_REFERENCE, path="tokens[]."
                    ),
                    status=status,
                    suspended_by=suspended_by,
                )
            )
        return cls(request_id=request_id, reason_code=reason, tokens=tuple(tokens))


def timestamp(value: str) -> datetime | None:
    """An ISO 8601 date and time with its offset (YYYY-MM-DDThh:mm:ss[.sss]Z or ±hh:mm); None if it is not one."""
    try:
        moment = parse_datetime(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None
