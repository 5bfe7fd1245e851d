"""Typed requests and answers of MDES Token Connect. JSON is mapped to these here and nowhere else.

Answers tolerate fields they do not know (Mastercard adds optional fields over time) but refuse a missing
required field or a wrong type with MdesProtocolError. Values that must not leak (card numbers, account holder
data, receipts, the JWS) are left out of the dataclasses' repr, so logging an object cannot print them.
"""

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self, TypeVar

from provisioning.mdes.errors import ErrorDetail, MdesProtocolError

_T = TypeVar("_T")

# signatureData fields, in the order of the specification.
SIGNATURE_DATA_FIELDS = (
    ("callback_url", "callbackURL"),
    ("complete_issuer_app_activation", "completeIssuerAppActivation"),
    ("complete_website_activation", "completeWebsiteActivation"),
    ("account_holder_data_supplied", "accountHolderDataSupplied"),
    ("locale", "locale"),
    ("token_requestor_session_id", "tokenRequestorSessionId"),
)


def _typed(data: Mapping[str, Any], key: str, kind: type[_T] | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise MdesProtocolError(f"{where}.{key} has an unexpected type")
    return value


def _required(data: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T:
    value = _typed(data, key, kind, where)
    if value is None:
        raise MdesProtocolError(f"{where}.{key} is missing")
    result: _T = value
    return result


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    values = _typed(data, key, list, where)
    if values is None:
        return None
    if not all(isinstance(value, str) for value in values):
        raise MdesProtocolError(f"{where}.{key} must hold strings")
    return tuple(values)


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MdesProtocolError(f"{where} is not an object")
    return value


def error_details(items: object, where: str = "errors") -> tuple[ErrorDetail, ...]:
    """MDES's camelCase `errors` array."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise MdesProtocolError(f"{where} is not an array")
    details = []
    for item in items:
        error = _object(item, where)
        details.append(
            ErrorDetail(
                source=str(error.get("source", "")),
                reason_code=str(error.get("reasonCode", "")),
                description=str(error.get("description", "")),
                recoverable=error.get("recoverable") if isinstance(error.get("recoverable"), bool) else None,
                error_code=str(error["errorCode"]) if error.get("errorCode") is not None else None,
            )
        )
    return tuple(details)


@dataclass(frozen=True)
class PushMethod:
    type: str  # ANDROID, IOS or WEB (new values are possible)
    uri: str

    @classmethod
    def from_json(cls, data: object) -> Self:
        item = _object(data, "PushMethod")
        return cls(type=_required(item, "type", str, "PushMethod"), uri=_required(item, "uri", str, "PushMethod"))


def _push_methods(items: object, where: str) -> tuple[PushMethod, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise MdesProtocolError(f"{where} is not an array")
    return tuple(PushMethod.from_json(item) for item in items)


def _range_start(value: object) -> str:
    # int64 in the specification; a string is tolerated. MDES right-pads range starts with zeros to 19 digits, so a
    # shorter value is padded the same way (a left-padded "555555555" would name the range 0000000000555555555).
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MdesProtocolError("enabledAccountRanges must hold numbers")
    return str(value).ljust(19, "0")


@dataclass(frozen=True)
class EligibleTokenRequestor:
    """A token requestor as getEligibleTokenRequestors describes it."""

    token_requestor_id: str
    name: str
    consumer_facing_entity_name: str
    token_requestor_type: str
    enabled_account_ranges: tuple[str, ...]  # 19-digit range starts
    image_asset_id: str | None = None
    wallet_id: str | None = None
    supported_push_methods: tuple[str, ...] | None = None  # None: not in Token Connect
    supports_multiple_pushed_cards: bool | None = None
    supported_account_holder_data: tuple[str, ...] | None = None
    supports_cardholder_authentication: bool | None = None
    supports_token_connect: bool | None = None
    available_push_methods: tuple[PushMethod, ...] = ()
    supports_issuer_initiated_digitization_data: bool | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        item = _object(data, "TokenRequestor")
        where = "TokenRequestor"
        ranges = _required(item, "enabledAccountRanges", list, where)
        # The specification spells it CardHolder, a release note Cardholder: accept either.
        authentication = _typed(item, "supportsCardHolderAuthentication", bool, where)
        if authentication is None:
            authentication = _typed(item, "supportsCardholderAuthentication", bool, where)
        return cls(
            token_requestor_id=_required(item, "tokenRequestorId", str, where),
            name=_required(item, "name", str, where),
            consumer_facing_entity_name=_required(item, "consumerFacingEntityName", str, where),
            token_requestor_type=_required(item, "tokenRequestorType", str, where),
            enabled_account_ranges=tuple(_range_start(value) for value in ranges),
            image_asset_id=_typed(item, "imageAssetId", str, where),
            wallet_id=_typed(item, "walletId", str, where),
            supported_push_methods=_strings(item, "supportedPushMethods", where),
            supports_multiple_pushed_cards=_typed(item, "supportsMultiplePushedCards", bool, where),
            supported_account_holder_data=_strings(item, "supportedAccountHolderData", where),
            supports_cardholder_authentication=authentication,
            supports_token_connect=_typed(item, "supportsTokenConnect", bool, where),
            available_push_methods=_push_methods(item.get("availablePushMethods"), f"{where}.availablePushMethods"),
            supports_issuer_initiated_digitization_data=_typed(
                item, "supportIssuerInitiatedDigitizationData", bool, where
            ),
        )


@dataclass(frozen=True)
class UnreadableTokenRequestor:
    """An entry of getEligibleTokenRequestors that could not be read (a required field missing or mistyped)."""

    token_requestor_id: str | None  # None when the entry has no readable TRID either
    reason: str

    @classmethod
    def of(cls, data: object, error: MdesProtocolError) -> Self:
        trid = data.get("tokenRequestorId") if isinstance(data, dict) else None
        return cls(token_requestor_id=trid if isinstance(trid, str) else None, reason=str(error))


@dataclass(frozen=True)
class MediaContent:
    type: str  # a MIME type: image/png, image/svg+xml, application/pdf, text/plain, text/html
    data: bytes = field(repr=False)
    width: int | None = None
    height: int | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        item = _object(data, "MediaContent")
        try:
            content = base64.b64decode(_required(item, "data", str, "MediaContent"), validate=True)
        except binascii.Error as exc:
            raise MdesProtocolError("MediaContent.data is not base64") from exc
        return cls(
            type=_required(item, "type", str, "MediaContent"),
            data=content,
            width=_dimension(item.get("width")),
            height=_dimension(item.get("height")),
        )


def _dimension(value: object) -> int | None:
    # Strings in the specification; some processors send numbers.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MdesProtocolError("MediaContent width/height must be a number")
    return int(value)


@dataclass(frozen=True)
class Asset:
    asset_id: str
    media_contents: tuple[MediaContent, ...]

    def content_of_type(self, mime_type: str) -> MediaContent | None:
        return next((content for content in self.media_contents if content.type == mime_type), None)


@dataclass(frozen=True)
class BillingAddress:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    country_subdivision: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-3

    def to_json(self) -> dict[str, str]:
        pairs = (
            ("line1", self.line1),
            ("line2", self.line2),
            ("city", self.city),
            ("countrySubdivision", self.country_subdivision),
            ("postalCode", self.postal_code),
            ("country", self.country),
        )
        return {name: value for name, value in pairs if value is not None}


@dataclass(frozen=True)
class PhoneNumber:
    country_dial_in_code: str  # "1", "44", ...
    phone_number: str  # without any domestic prefix


@dataclass(frozen=True)
class AccountHolderData:
    """Cardholder details for the push; send only the kinds the token requestor lists as supported."""

    name: str | None = field(default=None, repr=False)
    address: BillingAddress | None = field(default=None, repr=False)
    email_address: str | None = field(default=None, repr=False)
    mobile_phone_number: PhoneNumber | None = field(default=None, repr=False)

    @property
    def kinds(self) -> frozenset[str]:
        """The supportedAccountHolderData values this object carries."""
        present = {
            "NAME": self.name,
            "ADDRESS": self.address,
            "EMAIL_ADDRESS": self.email_address,
            "MOBILE_PHONE_NUMBER": self.mobile_phone_number,
        }
        return frozenset(kind for kind, value in present.items() if value is not None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.name is not None:
            data["accountHolderName"] = self.name
        if self.address is not None:
            data["accountHolderAddress"] = self.address.to_json()
        if self.email_address is not None:
            data["accountHolderEmailAddress"] = self.email_address
        if self.mobile_phone_number is not None:
            data["accountHolderMobilePhoneNumber"] = {
                "countryDialInCode": self.mobile_phone_number.country_dial_in_code,
                "phoneNumber": self.mobile_phone_number.phone_number,
            }
        return data


@dataclass(frozen=True)
class PushFundingAccount:
    """One card to push. `card_account_data` is exactly what cardholders.vault.card_account_data returned.

    The client encrypts it as soon as it builds the request; it is never logged, stored or queued.
    """

    push_account_id: str
    card_account_data: Mapping[str, str] = field(repr=False)
    account_holder_data: AccountHolderData | None = None
    data_valid_until: datetime | None = None  # None: the client's default validity from now


@dataclass(frozen=True)
class SignatureData:
    """The values MDES signs for the redirect (signatureData). None means "not sent"."""

    callback_url: str | None = None
    complete_issuer_app_activation: bool | None = None
    complete_website_activation: bool | None = None
    account_holder_data_supplied: bool | None = None
    locale: str | None = None
    token_requestor_session_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            name: getattr(self, attribute)
            for attribute, name in SIGNATURE_DATA_FIELDS
            if getattr(self, attribute) is not None
        }


# Below this length, the prefix and the last four characters together would give away most of a receipt.
_RECEIPT_HINT_MIN_LENGTH = 12


def receipt_hint(receipt: str) -> str:
    """What may be shown or logged of a receipt (a bearer credential): its product prefix and last four characters,
    only the prefix if it is shorter than 12 characters. Never more than 7 of its characters."""
    if len(receipt) < _RECEIPT_HINT_MIN_LENGTH:
        return f"{receipt[:3]}…"
    return f"{receipt[:3]}…{receipt[-4:]}"


@dataclass(frozen=True)
class PushedAccount:
    """The outcome for one pushed account: a receipt, or the errors that replaced it."""

    push_account_id: str
    receipt: str | None = field(default=None, repr=False)
    issuer_initiated_digitization_data: str | None = field(default=None, repr=False)
    errors: tuple[ErrorDetail, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.receipt is not None

    @property
    def receipt_hint(self) -> str | None:
        return receipt_hint(self.receipt) if self.receipt else None

    @classmethod
    def from_json(cls, data: object) -> Self:
        item = _object(data, "PushMultipleAccountsData")
        where = "PushMultipleAccountsData"
        account = cls(
            push_account_id=_required(item, "pushAccountId", str, where),
            receipt=_typed(item, "pushAccountReceipt", str, where),
            issuer_initiated_digitization_data=_typed(item, "issuerInitiatedDigitizationData", str, where),
            errors=error_details(item.get("errors"), f"{where}.errors"),
        )
        if account.receipt is None and not account.errors:
            raise MdesProtocolError("An account came back with neither a receipt nor errors")
        return account


@dataclass(frozen=True)
class PushResult:
    """The answer to pushMultipleAccounts, one entry per pushed account (partial success is normal)."""

    request_id: str
    response_id: str
    accounts: tuple[PushedAccount, ...]
    available_push_methods: tuple[PushMethod, ...] = ()
    token_requestor_signature_support: bool | None = None
    signature: str | None = field(default=None, repr=False)
    # The JWS payload (decoded, checked against the request, not verified: MDES's key is the requestor's).
    signed_payload: Mapping[str, Any] | None = field(default=None, repr=False)
    sent_signature_data: SignatureData | None = None
    errors: tuple[ErrorDetail, ...] = ()

    @property
    def succeeded(self) -> tuple[PushedAccount, ...]:
        return tuple(account for account in self.accounts if account.succeeded)

    @property
    def failed(self) -> tuple[PushedAccount, ...]:
        return tuple(account for account in self.accounts if not account.succeeded)

    @property
    def receipts(self) -> tuple[str, ...]:
        return tuple(account.receipt for account in self.accounts if account.receipt is not None)

    def account(self, push_account_id: str) -> PushedAccount:
        return next(account for account in self.accounts if account.push_account_id == push_account_id)

    def push_method(self, method_type: str) -> PushMethod | None:
        return next((method for method in self.available_push_methods if method.type == method_type), None)


def ordered_accounts(accounts: Sequence[PushedAccount], push_account_ids: Sequence[str]) -> tuple[PushedAccount, ...]:
    """The accounts in the order they were pushed; MdesProtocolError if MDES answered for other accounts."""
    by_id = {account.push_account_id: account for account in accounts}
    if len(by_id) != len(accounts) or set(by_id) != set(push_account_ids):
        raise MdesProtocolError("MDES answered for other accounts than were pushed")
    return tuple(by_id[push_account_id] for push_account_id in push_account_ids)
