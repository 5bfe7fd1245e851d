"""Typed requests and results of the MDES Customer Service API (mdes-beyond-the-push.md section 3, W3 v2.1.7).

Bodies are PascalCase and wrapped (`{"TokenSuspendRequest": {...}}`); the answers likewise. Reason codes are
enumerations, so a wrong code cannot be built; AuditInfo refuses an e-mail address or a card number.
"""

import enum
import re
from dataclasses import dataclass
from typing import Any

from provisioning.mdes.errors import MdesProtocolError

_TOKEN_UNIQUE_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOKEN_REQUESTOR_ID = re.compile(r"[0-9]{6,11}")
_CARD_NUMBER_LIKE = re.compile(r"[0-9]{12,}")
MAX_COMMENT_LENGTH = 500


class ActivateReason(enum.StrEnum):
    AUTHENTICATED_BY_ACTIVATION_METHOD = "A"  # activation code, issuer app...
    AUTHENTICATED_BY_CUSTOMER_SERVICE = "C"


class SuspendReason(enum.StrEnum):
    DEVICE_LOST = "L"
    DEVICE_STOLEN = "S"
    FRAUDULENT_TRANSACTIONS = "T"
    OTHER = "Z"


class UnsuspendReason(enum.StrEnum):
    DEVICE_FOUND = "F"
    NO_FRAUD = "T"
    OTHER = "Z"


class DeleteReason(enum.StrEnum):
    DEVICE_LOST = "L"
    DEVICE_STOLEN = "S"
    FRAUD_DEPRECATED = "F"  # deprecated by Mastercard in favour of T; still valid
    FRAUDULENT_TRANSACTIONS = "T"
    ACCOUNT_CLOSED = "C"
    DELETED_BY_ISSUER_OR_CONSUMER = "D"
    OTHER = "Z"


def reason(enumeration: type[enum.StrEnum], value: object) -> str:
    """The code if `value` is a member (or the code) of `enumeration`; ValueError before anything is sent."""
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(enumeration(value))
    except ValueError:
        allowed = ", ".join(member.value for member in enumeration)
        raise ValueError(f"{value!r} is not a {enumeration.__name__} ({allowed})") from None


def _plain_text(name: str, value: str, low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise ValueError(f"AuditInfo {name} must be {low} to {high} characters")
    # The audit actor goes to Mastercard: never an e-mail address or anything like a card number.
    if "@" in value or _CARD_NUMBER_LIKE.search(value.replace(" ", "").replace("-", "")):
        raise ValueError(f"AuditInfo {name} must not hold an e-mail address or a card number")


@dataclass(frozen=True)
class AuditInfo:
    """Who acts, as MDES records it (it does not validate it): a staff member, or the portal's service identity
    acting for a cardholder, whose reference (never an e-mail address or card number) travels with it."""

    user_id: str
    user_name: str
    organization: str
    phone: str | None = None
    cardholder_reference: str | None = None

    def __post_init__(self) -> None:
        _plain_text("UserId", self.user_id, 4, 50)
        _plain_text("UserName", self.user_name, 4, 200)
        _plain_text("Organization", self.organization, 4, 200)
        if self.phone is not None and not 1 <= len(self.phone) <= 20:
            raise ValueError("AuditInfo Phone must be 1 to 20 characters")
        if self.cardholder_reference is not None:
            _plain_text("cardholder reference", self.cardholder_reference, 1, 64)

    @classmethod
    def staff(cls, *, user_id: int | str, user_name: str, organization: str) -> "AuditInfo":
        """A staff member by the portal's user id (prefixed: MDES wants 4 characters at least) and name."""
        return cls(user_id=f"staff-{user_id}", user_name=user_name, organization=organization)

    @classmethod
    def service(
        cls,
        *,
        cardholder_reference: str,
        organization: str,
        service_id: str = "portal-self-service",
        service_name: str = "Cardholder self-service",
    ) -> "AuditInfo":
        """The portal acting for a cardholder (self-service)."""
        return cls(
            user_id=service_id,
            user_name=service_name,
            organization=organization,
            cardholder_reference=cardholder_reference,
        )

    def to_json(self, *, reference_in_user_name: bool) -> dict[str, str]:
        user_name = self.user_name
        if reference_in_user_name and self.cardholder_reference:
            user_name = f"{user_name} for {self.cardholder_reference}"[:200]
        data = {"UserId": self.user_id, "UserName": user_name, "Organization": self.organization}
        if self.phone:
            data["Phone"] = self.phone
        return data


def check_token_unique_reference(value: str) -> str:
    if not _TOKEN_UNIQUE_REFERENCE.fullmatch(value):
        raise ValueError("A token unique reference is 1 to 64 letters, digits, - or _")
    return value


def check_token_requestor_id(value: str) -> str:
    if not _TOKEN_REQUESTOR_ID.fullmatch(value):
        raise ValueError("A token requestor id is 6 to 11 digits")
    return value


def check_comment(value: str | None) -> str | None:
    if value is not None and not 1 <= len(value) <= MAX_COMMENT_LENGTH:
        raise ValueError(f"CommentText must be 1 to {MAX_COMMENT_LENGTH} characters")
    return value


@dataclass(frozen=True)
class SearchOptions:
    exclude_deleted: bool = False
    include_device_tokens_only: bool = False
    exclude_deleted_from_consumer_app: bool = False

    def to_json(self) -> dict[str, str]:
        return {
            "ExcludeDeletedIndicator": _flag(self.exclude_deleted),
            "IncludeDeviceTokensOnly": _flag(self.include_device_tokens_only),
            "ExcludeTokensDeletedFromConsumerApp": _flag(self.exclude_deleted_from_consumer_app),
        }


def _flag(value: bool) -> str:
    return "true" if value else "false"  # the API's booleans are strings


# --- results ------------------------------------------------------------------------------------------------------
def _object(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MdesProtocolError(f"{what} is not an object")
    return data


def _list(container: object, key: str, what: str) -> list[Any]:
    """`{"Token": [...]}` style lists: a missing or empty container is an empty list, a lone object one item."""
    if container in (None, "", {}):
        return []
    items = _object(container, what).get(key)
    if items is None:
        return []
    if isinstance(items, dict):
        return [items]
    if not isinstance(items, list):
        raise MdesProtocolError(f"{what}.{key} is not an array")
    return items


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise MdesProtocolError(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MdesProtocolError(f"{key} is not a string")
    return str(value)


def _boolean(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def _suspenders(container: object) -> tuple[str, ...]:
    # W3's example lists "W, I" as one entry: accept both one code per entry and comma-separated entries.
    codes: list[str] = []
    for entry in _list(container, "Suspender", "Suspenders"):
        codes += [code.strip() for code in str(entry).split(",") if code.strip()]
    return tuple(dict.fromkeys(codes))


@dataclass(frozen=True)
class Token:
    """One token of a search answer: where the card lives and in which state."""

    token_unique_reference: str
    status: str  # U in progress, A active, S suspended, D deleted
    status_description: str | None
    status_at: str | None
    provisioning_status: str | None  # T, P, D, A awaiting activation, S success, F failed
    suspenders: tuple[str, ...]  # I issuer, W wallet / token requestor, C cardholder, P, M
    token_requestor_id: str | None
    token_requestor_name: str | None
    consumer_facing_name: str | None
    wallet_id: str | None
    token_suffix: str | None
    expiration_date: str | None
    token_type: str | None
    device_name: str | None
    device_type: str | None
    deleted_from_consumer_app: bool
    digitization_requested_at: str | None
    activated_at: str | None
    account_pan_suffix: str | None

    @classmethod
    def from_json(cls, data: object, account_pan_suffix: str | None) -> "Token":
        item = _object(data, "Token")
        device = _object(item.get("Device") or {}, "Device")
        reference = _text(item, "TokenUniqueReference", required=True) or ""
        return cls(
            token_unique_reference=reference,
            status=_text(item, "CurrentStatusCode", required=True) or "",
            status_description=_text(item, "CurrentStatusDescription"),
            status_at=_text(item, "CurrentStatusDateTime"),
            provisioning_status=_text(item, "ProvisioningStatusCode"),
            suspenders=_suspenders(item.get("Suspenders")),
            token_requestor_id=_text(item, "TokenRequestorId"),
            token_requestor_name=_text(item, "TokenRequestorName"),
            consumer_facing_name=_text(item, "TokenRequestorConsumerFacingEntityName"),
            wallet_id=_text(item, "WalletId"),
            token_suffix=_text(item, "TokenSuffix"),
            expiration_date=_text(item, "ExpirationDate"),
            token_type=_text(item, "TokenType"),
            device_name=_text(device, "DeviceName"),
            device_type=_text(device, "DeviceType"),
            deleted_from_consumer_app=_boolean(item, "TokenDeletedFromConsumerApp"),
            digitization_requested_at=_text(item, "DigitizationRequestDateTime"),
            activated_at=_text(item, "TokenActivatedDateTime"),
            account_pan_suffix=account_pan_suffix or _text(item, "AccountPanSuffix"),
        )


@dataclass(frozen=True)
class SearchResult:
    tokens: tuple[Token, ...]

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> "SearchResult":
        response = _object(payload.get("SearchResponse"), "SearchResponse")
        tokens: list[Token] = []
        for account in _list(response.get("Accounts"), "Account", "Accounts"):
            account = _object(account, "Account")
            suffix = _text(account, "AccountPanSuffix")
            tokens += [Token.from_json(item, suffix) for item in _list(account.get("Tokens"), "Token", "Tokens")]
        return cls(tokens=tuple(tokens))


@dataclass(frozen=True)
class TokenActionResult:
    """The answer to activate, suspend, unsuspend and delete."""

    token_unique_reference: str
    comment_id: str | None

    @classmethod
    def from_json(cls, payload: dict[str, Any], wrapper: str) -> "TokenActionResult":
        token = _object(_object(payload.get(wrapper), wrapper).get("Token"), f"{wrapper}.Token")
        return cls(
            token_unique_reference=_text(token, "TokenUniqueReference", required=True) or "",
            comment_id=_text(token, "CommentId"),
        )


@dataclass(frozen=True)
class StatusChange:
    """One entry of a token's status history (its initial activation is not included: MDES says to search)."""

    status_code: str
    status_description: str | None
    at: str | None
    initiator: str | None  # I issuer, W wallet / token requestor, C cardholder, P, M MDES
    reason_code: str | None
    comment_id: str | None
    audit_user_id: str | None
    audit_user_name: str | None

    @classmethod
    def from_json(cls, data: object) -> "StatusChange":
        item = _object(data, "Status")
        audit = _object(item.get("AuditInfo") or {}, "AuditInfo")
        return cls(
            status_code=_text(item, "StatusCode", required=True) or "",
            status_description=_text(item, "StatusDescription"),
            at=_text(item, "StatusDateTime"),
            initiator=_text(item, "Initiator"),
            reason_code=_text(item, "ReasonCode"),
            comment_id=_text(item, "CommentId"),
            audit_user_id=_text(audit, "UserId"),
            audit_user_name=_text(audit, "UserName"),
        )


def status_history_from_json(payload: dict[str, Any]) -> tuple[StatusChange, ...]:
    response = _object(payload.get("TokenStatusHistoryResponse"), "TokenStatusHistoryResponse")
    return tuple(StatusChange.from_json(item) for item in _list(response.get("Statuses"), "Status", "Statuses"))


@dataclass(frozen=True)
class TokenRequestorInfo:
    token_requestor_id: str
    name: str
    consumer_facing_name: str | None

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> "TokenRequestorInfo":
        response = _object(payload.get("TokenRequestorSearchResponse"), "TokenRequestorSearchResponse")
        return cls(
            token_requestor_id=_text(response, "TokenRequestorId", required=True) or "",
            name=_text(response, "TokenRequestorName", required=True) or "",
            consumer_facing_name=_text(response, "TokenRequestorConsumerFacingEntityName"),
        )
