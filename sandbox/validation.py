"""Input checks of the Token Connect operations, with the lengths, formats and enums of the OpenAPI v2.11 file.

Each check records an MDES error (`MISSING_REQUIRED_FIELD`, `INVALID_FIELD_LENGTH`, `INVALID_FIELD_FORMAT`,
`INVALID_FIELD_VALUE`) naming the field the way MDES's descriptions do ("Invalid Field Length - requestId").
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

MAX_ACCOUNT_RANGES = 25
MAX_PUSHED_ACCOUNTS = 5
MIN_VALIDITY_MINUTES = 5
MAX_VALIDITY_MINUTES = 15
DEFAULT_VALIDITY_MINUTES = 15
MAX_DATA_VALIDITY = timedelta(days=30)

_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_LOCALE = re.compile(r"[a-z]{2}_[A-Z]{2}")
_ALPHA3 = re.compile(r"[A-Z]{3}")
_MONTH = re.compile(r"0[1-9]|1[0-2]")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

# signatureData fields in the order MDES lists them; booleans are "not case sensitive" per the spec.
SIGNATURE_BOOLEAN_FIELDS = ("completeIssuerAppActivation", "completeWebsiteActivation", "accountHolderDataSupplied")
SIGNATURE_FIELDS = ("callbackURL", *SIGNATURE_BOOLEAN_FIELDS, "locale", "tokenRequestorSessionId")
ACCOUNT_HOLDER_FIELDS = {
    "NAME": "accountHolderName",
    "ADDRESS": "accountHolderAddress",
    "EMAIL_ADDRESS": "accountHolderEmailAddress",
    "MOBILE_PHONE_NUMBER": "accountHolderMobilePhoneNumber",
}


@dataclass(frozen=True)
class Problem:
    reason_code: str
    description: str
    source: str = "INPUT"
    recoverable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "reasonCode": self.reason_code,
            "description": self.description[:256],
            "recoverable": self.recoverable,
        }


@dataclass
class Checker:
    """Collects every problem of one object instead of stopping at the first (MDES returns an array)."""

    problems: list[Problem] = field(default_factory=list)

    def missing(self, path: str) -> None:
        self.problems.append(Problem("MISSING_REQUIRED_FIELD", f"Missing Required Field - {path}"))

    def bad_length(self, path: str) -> None:
        self.problems.append(Problem("INVALID_FIELD_LENGTH", f"Invalid Field Length - {path}"))

    def bad_format(self, path: str) -> None:
        self.problems.append(Problem("INVALID_FIELD_FORMAT", f"Invalid Field Format - {path}"))

    def bad_value(self, path: str, why: str) -> None:
        self.problems.append(Problem("INVALID_FIELD_VALUE", f"Invalid Field Value - {path}: {why}"))

    def string(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        minimum: int,
        maximum: int,
        required: bool = False,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.missing(path)
            return None
        if not isinstance(value, str):
            self.bad_format(path)
        elif not minimum <= len(value) <= maximum:
            self.bad_length(path)
        elif pattern is not None and not pattern.fullmatch(value):
            self.bad_format(path)
        else:
            return value
        return None

    def boolean(self, data: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.bad_format(path)
        return None

    def mapping(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            if required:
                self.missing(path)
            return None
        if not isinstance(value, dict):
            self.bad_format(path)
            return None
        return value


# --- getEligibleTokenRequestors ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EligibleRequest:
    request_id: str
    padded_ranges: tuple[str, ...]
    supports_token_connect: bool | None


def request_id_of(body: object) -> str | None:
    """The requestId if the body carries a usable one (for echoing in responseId even when other fields fail)."""
    if isinstance(body, dict):
        value = body.get("requestId")
        if isinstance(value, str) and 1 <= len(value) <= 64:
            return value
    return None


def check_eligible_request(body: Mapping[str, Any]) -> tuple[EligibleRequest | None, list[Problem]]:
    checker = Checker()
    request_id = checker.string(body, "requestId", "requestId", minimum=1, maximum=64, required=True)
    ranges = body.get("accountRanges")
    padded: list[str] = []
    if ranges is None:
        checker.missing("accountRanges")
    elif not isinstance(ranges, list):
        checker.bad_format("accountRanges")
    elif not 1 <= len(ranges) <= MAX_ACCOUNT_RANGES:
        checker.bad_length("accountRanges")
    else:
        for index, start in enumerate(ranges):
            value = checker.string(
                {"start": start},
                "start",
                f"accountRanges[{index}]",
                minimum=9,
                maximum=19,
                required=True,
                pattern=_DIGITS,
            )
            if value is not None:
                padded.append(value.ljust(19, "0"))
    supports_token_connect = checker.boolean(body, "supportsTokenConnect", "supportsTokenConnect")
    if checker.problems or request_id is None:
        return None, checker.problems
    return EligibleRequest(request_id, tuple(padded), supports_token_connect), []


# --- pushMultipleAccounts: the clear part of the request ----------------------------------------------------------
@dataclass(frozen=True)
class PushRequest:
    request_id: str
    token_requestor_id: str
    envelope: Mapping[str, Any]
    signature_data: dict[str, Any]  # normalised (booleans as booleans), in the order MDES lists the fields
    request_digitization_data: bool
    validity_minutes: int
    authentication_code: str | None


def _check_envelope(checker: Checker, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    accounts = checker.mapping(body, "pushFundingAccounts", "pushFundingAccounts", required=True)
    if accounts is None:
        return None
    path = "pushFundingAccounts.encryptedPayload"
    envelope = checker.mapping(accounts, "encryptedPayload", path, required=True)
    if envelope is None:
        return None
    before = len(checker.problems)
    checker.string(
        envelope,
        "publicKeyFingerprint",
        f"{path}.publicKeyFingerprint",
        minimum=32,
        maximum=64,
        required=True,
        pattern=_HEX,
    )
    checker.string(
        envelope, "encryptedKey", f"{path}.encryptedKey", minimum=32, maximum=512, required=True, pattern=_HEX
    )
    checker.string(
        envelope, "encryptedData", f"{path}.encryptedData", minimum=2, maximum=10**6, required=True, pattern=_HEX
    )
    algorithm = checker.string(envelope, "oaepHashingAlgorithm", f"{path}.oaepHashingAlgorithm", minimum=6, maximum=6)
    if algorithm is not None and algorithm not in ("SHA256", "SHA512"):
        checker.bad_value(f"{path}.oaepHashingAlgorithm", "must be SHA256 or SHA512")
    iv = checker.string(envelope, "iv", f"{path}.iv", minimum=24, maximum=32, pattern=_HEX)
    if iv is not None and len(iv) not in (24, 32):
        checker.bad_length(f"{path}.iv")
    mode = checker.string(envelope, "algorithmCipherMode", f"{path}.algorithmCipherMode", minimum=3, maximum=3)
    if mode is not None and mode not in ("CBC", "GCM"):
        checker.bad_value(f"{path}.algorithmCipherMode", "must be CBC or GCM")
    checker.string(envelope, "tag", f"{path}.tag", minimum=1, maximum=36, pattern=_HEX)
    checker.string(envelope, "aad", f"{path}.aad", minimum=1, maximum=36, pattern=_HEX)
    return envelope if len(checker.problems) == before else None


def _check_signature_data(checker: Checker, body: Mapping[str, Any]) -> dict[str, Any]:
    data = checker.mapping(body, "signatureData", "signatureData")
    if data is None:
        return {}
    normalised: dict[str, Any] = {}
    callback = checker.string(data, "callbackURL", "signatureData.callbackURL", minimum=1, maximum=256)
    if callback is not None:
        parts = urlsplit(callback)
        if not parts.scheme or not (parts.netloc or parts.path):
            checker.bad_format("signatureData.callbackURL")
        else:
            normalised["callbackURL"] = callback
    for name in SIGNATURE_BOOLEAN_FIELDS:
        flag = checker.boolean(data, name, f"signatureData.{name}")
        if flag is not None:
            normalised[name] = flag
    locale = checker.string(data, "locale", "signatureData.locale", minimum=4, maximum=5, pattern=_LOCALE)
    if locale is not None:
        normalised["locale"] = locale
    session_id = checker.string(
        data, "tokenRequestorSessionId", "signatureData.tokenRequestorSessionId", minimum=3, maximum=64
    )
    if session_id is not None:
        normalised["tokenRequestorSessionId"] = session_id
    return normalised


def _check_validity(checker: Checker, body: Mapping[str, Any]) -> int:
    value = body.get("pushAccountReceiptsValidityPeriod")
    if value is None:
        return DEFAULT_VALIDITY_MINUTES
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        checker.bad_format("pushAccountReceiptsValidityPeriod")
        return DEFAULT_VALIDITY_MINUTES
    if not MIN_VALIDITY_MINUTES <= value <= MAX_VALIDITY_MINUTES:
        checker.bad_value("pushAccountReceiptsValidityPeriod", "must be greater than 4 and at most 15 minutes")
    return int(value)


def check_push_request(body: Mapping[str, Any]) -> tuple[PushRequest | None, list[Problem]]:
    checker = Checker()
    request_id = checker.string(body, "requestId", "requestId", minimum=1, maximum=64, required=True)
    trid = checker.string(
        body, "tokenRequestorId", "tokenRequestorId", minimum=11, maximum=11, required=True, pattern=_DIGITS
    )
    envelope = _check_envelope(checker, body)
    signature_data = _check_signature_data(checker, body)
    digitization = checker.boolean(
        body, "requestIssuerInitiatedDigitizationData", "requestIssuerInitiatedDigitizationData"
    )
    validity = _check_validity(checker, body)
    code = checker.string(body, "authenticationCode", "authenticationCode", minimum=1, maximum=32)
    if checker.problems or request_id is None or trid is None or envelope is None:
        return None, checker.problems
    request = PushRequest(
        request_id=request_id,
        token_requestor_id=trid,
        envelope=envelope,
        signature_data=signature_data,
        request_digitization_data=bool(digitization),
        validity_minutes=validity,
        authentication_code=code,
    )
    return request, []


# --- pushMultipleAccounts: the decrypted funding accounts ------------------------------------------------------------
def check_account_list(accounts: object, *, allows_multiple: bool) -> list[Problem]:
    """Request-level checks of the decrypted array: its size and each pushAccountId (unique, 1-36)."""
    checker = Checker()
    path = "pushFundingAccounts.encryptedPayload.encryptedData"
    if not isinstance(accounts, list) or not accounts:
        checker.bad_format(path)
        return checker.problems
    limit = MAX_PUSHED_ACCOUNTS if allows_multiple else 1
    if len(accounts) > limit:
        checker.bad_value(path, f"this token requestor accepts at most {limit} account(s) per request")
    seen: set[str] = set()
    for index, account in enumerate(accounts):
        if not isinstance(account, dict):
            checker.bad_format(f"{path}[{index}]")
            continue
        push_account_id = checker.string(
            account, "pushAccountId", f"{path}[{index}].pushAccountId", minimum=1, maximum=36, required=True
        )
        if push_account_id is not None:
            if push_account_id in seen:
                checker.bad_value(f"{path}[{index}].pushAccountId", "must be unique within the request")
            seen.add(push_account_id)
    return checker.problems


def _parse_timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _check_valid_until(checker: Checker, data: Mapping[str, Any], now: datetime) -> None:
    path = "fundingAccountData.dataValidUntilTimestamp"
    text = checker.string(data, "dataValidUntilTimestamp", path, minimum=20, maximum=29, pattern=_TIMESTAMP)
    if text is None:
        return
    until = _parse_timestamp(text)
    if until is None:
        checker.bad_format(path)
    elif until <= now:
        checker.bad_value(path, "the payload is no longer valid")
    elif until > now + MAX_DATA_VALIDITY:
        checker.bad_value(path, "must be at most 30 days in the future")


def _check_card(checker: Checker, card: Mapping[str, Any], now: datetime) -> str | None:
    path = "fundingAccountData.cardAccountData"
    number = checker.string(
        card, "accountNumber", f"{path}.accountNumber", minimum=9, maximum=19, required=True, pattern=_DIGITS
    )
    month = checker.string(card, "expiryMonth", f"{path}.expiryMonth", minimum=2, maximum=2, pattern=_MONTH)
    year = checker.string(card, "expiryYear", f"{path}.expiryYear", minimum=2, maximum=2, pattern=_DIGITS)
    if ("expiryMonth" in card) != ("expiryYear" in card):
        checker.missing(f"{path}.{'expiryYear' if 'expiryMonth' in card else 'expiryMonth'}")
    elif month is not None and year is not None and (2000 + int(year), int(month)) < (now.year, now.month):
        checker.bad_value(f"{path}.expiryYear", "the card has expired")
    return number


def _check_financial_account(checker: Checker, account: Mapping[str, Any]) -> None:
    path = "fundingAccountData.financialAccountData"
    checker.string(account, "financialAccountId", f"{path}.financialAccountId", minimum=9, maximum=64, required=True)
    checker.string(
        account,
        "interbankCardAssociationId",
        f"{path}.interbankCardAssociationId",
        minimum=3,
        maximum=11,
        required=True,
    )
    checker.string(account, "countryCode", f"{path}.countryCode", minimum=3, maximum=3, required=True, pattern=_ALPHA3)


def _check_address(checker: Checker, address: Mapping[str, Any], path: str) -> None:
    limits = {"line1": 64, "line2": 64, "city": 32, "countrySubdivision": 12, "postalCode": 16}
    for name, maximum in limits.items():
        checker.string(address, name, f"{path}.{name}", minimum=1, maximum=maximum)
    checker.string(address, "country", f"{path}.country", minimum=3, maximum=3, pattern=_ALPHA3)


def _check_account_holder(
    checker: Checker, holder: Mapping[str, Any], *, accepted: tuple[str, ...], required: tuple[str, ...]
) -> None:
    path = "fundingAccountData.accountHolderData"
    checker.string(holder, "accountHolderName", f"{path}.accountHolderName", minimum=1, maximum=27)
    address = checker.mapping(holder, "accountHolderAddress", f"{path}.accountHolderAddress")
    if address is not None:
        _check_address(checker, address, f"{path}.accountHolderAddress")
    checker.string(
        holder, "accountHolderEmailAddress", f"{path}.accountHolderEmailAddress", minimum=6, maximum=320, pattern=_EMAIL
    )
    phone = checker.mapping(holder, "accountHolderMobilePhoneNumber", f"{path}.accountHolderMobilePhoneNumber")
    if phone is not None:
        phone_path = f"{path}.accountHolderMobilePhoneNumber"
        checker.string(
            phone,
            "countryDialInCode",
            f"{phone_path}.countryDialInCode",
            minimum=1,
            maximum=4,
            required=True,
            pattern=_DIGITS,
        )
        checker.string(
            phone, "phoneNumber", f"{phone_path}.phoneNumber", minimum=1, maximum=20, required=True, pattern=_DIGITS
        )
    for kind, name in ACCOUNT_HOLDER_FIELDS.items():
        if name in holder and kind not in accepted:
            checker.bad_value(f"{path}.{name}", "the token requestor does not accept this account holder data")
        elif name not in holder and kind in required:
            checker.missing(f"{path}.{name}")


@dataclass(frozen=True)
class CheckedAccount:
    push_account_id: str
    account_number: str | None  # None for financial accounts
    problems: list[Problem]


def check_funding_account(
    account: Mapping[str, Any],
    *,
    now: datetime,
    accepted_holder_data: tuple[str, ...],
    required_holder_data: tuple[str, ...],
) -> CheckedAccount:
    """Per-account checks; their problems become that account's `errors`, the others still get receipts."""
    checker = Checker()
    number = None
    data = checker.mapping(account, "fundingAccountData", "fundingAccountData", required=True)
    if data is not None:
        _check_valid_until(checker, data, now)
        card = checker.mapping(data, "cardAccountData", "fundingAccountData.cardAccountData")
        financial = checker.mapping(data, "financialAccountData", "fundingAccountData.financialAccountData")
        if card is not None and financial is not None:
            checker.bad_value("fundingAccountData", "holds both a card and a financial account")
        elif card is not None:
            number = _check_card(checker, card, now)
        elif financial is not None:
            _check_financial_account(checker, financial)
        elif data.get("cardAccountData") is None and data.get("financialAccountData") is None:
            checker.missing("fundingAccountData.cardAccountData")
        holder = checker.mapping(data, "accountHolderData", "fundingAccountData.accountHolderData")
        if holder is not None or required_holder_data:
            _check_account_holder(checker, holder or {}, accepted=accepted_holder_data, required=required_holder_data)
    return CheckedAccount(
        push_account_id=str(account["pushAccountId"]), account_number=number, problems=checker.problems
    )
