"""The simulated token requestors: how MDES describes them, and how their simulated pages behave.

Push URIs all point at this sandbox's own origin so that a browser (desktop or mobile) can follow them:
- WEB:     <origin>/tr/<trid>/push
- ANDROID: <origin>/tr/<trid>/android   (an App Link-style https URI; opens the same simulated page)
- IOS:     <origin>/tr/<trid>/ios       (a Universal Link-style https URI; same page)
"""

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.logos import LogoStyle

PUSH_METHOD_PATHS = {"WEB": "push", "ANDROID": "android", "IOS": "ios"}
ACCOUNT_HOLDER_DATA_KINDS = ("NAME", "ADDRESS", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER")
# The demo issuer's account range starts as configured (see tests/factories.py): a card is in a range when its number
# starts with one of them. MDES names them right-padded with zeros to 19 digits (padded_range_start).
DEMO_ISSUER_RANGES = ("555555555", "510510510", "520082828", "222300004")
RANGE_START_DIGITS = 19
_RANGE_START = re.compile(r"[0-9]{9,19}")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

DEMOPAY_TRID = "50100000011"
SUNDAY_STORE_TRID = "50100000022"
CLICK_TO_PAY_TRID = "50100000033"
NO_PUSH_TRID = "50100000044"
CARD_ON_FILE_TRID = "50100000050"
# The page a requestor's push URIs open: the generic decision page, the simulated Click to Pay
# (sandbox/click_to_pay.py) or a Secure Card on File merchant (sandbox/card_on_file.py).
EXPERIENCES = ("generic", "click_to_pay", "card_on_file")


@dataclass(frozen=True)
class SimulatedTokenRequestor:
    trid: str
    name: str
    consumer_facing_name: str
    requestor_type: str  # WALLET or MERCHANT
    # Range starts as configured (9 to 19 digits, not padded); padded_account_ranges is what MDES lists.
    enabled_account_ranges: tuple[str, ...]
    push_methods: tuple[str, ...] = ()  # empty: the requestor is not in Token Connect
    wallet_id: str | None = None
    supports_multiple_pushed_cards: bool = False
    supported_account_holder_data: tuple[str, ...] = ()
    # Sandbox-only: kinds the simulated requestor insists on (Click to Pay needs the cardholder's details).
    required_account_holder_data: tuple[str, ...] = ()
    supports_cardholder_authentication: bool = False
    supports_signature: bool = False
    supports_issuer_initiated_digitization_data: bool = False
    # How the simulated page reads the redirect (Mastercard's material leaves both open).
    receipts_separator: str = ","
    signature_param_name: str = "pushAccountData"
    logo: LogoStyle = field(default_factory=lambda: LogoStyle(initials="TR", colour="#5e5c64", shape="square"))
    # Sent exactly as given instead of the derived values, so tests can hand the portal odd or hostile data.
    asset_id: str | None = None
    available_push_methods: tuple[dict[str, Any], ...] | None = None
    experience: str = "generic"  # one of EXPERIENCES

    @property
    def in_token_connect(self) -> bool:
        return bool(self.push_methods)

    @property
    def image_asset_id(self) -> str:
        if self.asset_id is not None:
            return self.asset_id
        # Assets never change content, so the id is derived from everything that draws the logo.
        seed = f"{self.trid}/{self.logo.initials}/{self.logo.colour}/{self.logo.shape}/{self.consumer_facing_name}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-logo:{seed}"))

    def push_method_uris(self, origin: str) -> list[dict[str, Any]]:
        if self.available_push_methods is not None:
            return [dict(method) for method in self.available_push_methods]
        return [
            {"type": method, "uri": f"{origin}/tr/{self.trid}/{PUSH_METHOD_PATHS[method]}"}
            for method in self.push_methods
        ]

    @property
    def padded_account_ranges(self) -> tuple[str, ...]:
        return tuple(padded_range_start(start) for start in self.enabled_account_ranges)

    def matching_ranges(self, padded_ranges: Iterable[str]) -> list[str]:
        """The padded starts of this requestor's ranges that equal one asked for (MDES compares padded values)."""
        wanted = set(padded_ranges)
        return [start for start in self.padded_account_ranges if start in wanted]

    def covers_account(self, account_number: str) -> bool:
        """True when the number starts with an enabled range start as configured (555555555 covers 5555555550…,
        not 5555555560…). A 19-digit start, as the control API also accepts, no longer tells which of its trailing
        zeros are padding: its trailing zeros are ignored, so 5100000000000000000 covers every number starting 51."""
        return any(account_number.startswith(_significant_digits(start)) for start in self.enabled_account_ranges)

    def to_mdes_json(self, origin: str, matching_ranges: list[str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tokenRequestorId": self.trid,
            "name": self.name,
            "consumerFacingEntityName": self.consumer_facing_name,
            "imageAssetId": self.image_asset_id,
            "tokenRequestorType": self.requestor_type,
            "enabledAccountRanges": [int(start) for start in matching_ranges],
            "supportsTokenConnect": self.in_token_connect,
            "supportsCardHolderAuthentication": self.supports_cardholder_authentication,
        }
        if self.wallet_id:
            data["walletId"] = self.wallet_id
        if self.in_token_connect:
            # Present if and only if the requestor participates in Token Connect (spec).
            data["supportedPushMethods"] = list(self.push_methods)
            data["supportsMultiplePushedCards"] = self.supports_multiple_pushed_cards
            data["supportedAccountHolderData"] = list(self.supported_account_holder_data)
            data["availablePushMethods"] = self.push_method_uris(origin)
            data["supportIssuerInitiatedDigitizationData"] = self.supports_issuer_initiated_digitization_data
        return data


FIXTURE_TOKEN_REQUESTORS: tuple[SimulatedTokenRequestor, ...] = (
    SimulatedTokenRequestor(
        trid=DEMOPAY_TRID,
        name="DemoPay Wallet Services Ltd",
        consumer_facing_name="DemoPay",
        requestor_type="WALLET",
        wallet_id="216",
        enabled_account_ranges=DEMO_ISSUER_RANGES,
        push_methods=("ANDROID", "IOS", "WEB"),
        supports_multiple_pushed_cards=False,
        supported_account_holder_data=ACCOUNT_HOLDER_DATA_KINDS,
        supports_cardholder_authentication=True,
        supports_signature=False,
        supports_issuer_initiated_digitization_data=True,
        logo=LogoStyle(initials="DP", colour="#1a5fb4", shape="circle"),
    ),
    SimulatedTokenRequestor(
        trid=SUNDAY_STORE_TRID,
        name="Sunday Store Retail Inc",
        consumer_facing_name="Sunday Store",
        requestor_type="MERCHANT",
        enabled_account_ranges=DEMO_ISSUER_RANGES,
        push_methods=("WEB", "IOS"),
        supports_multiple_pushed_cards=True,
        supported_account_holder_data=("NAME",),
        supports_signature=True,
        logo=LogoStyle(initials="SS", colour="#c64600", shape="square"),
    ),
    SimulatedTokenRequestor(
        trid=CLICK_TO_PAY_TRID,
        name="Click to Pay Simulation Services",
        consumer_facing_name="Click to Pay (simulated)",
        requestor_type="WALLET",
        enabled_account_ranges=DEMO_ISSUER_RANGES,
        push_methods=("WEB",),
        supports_multiple_pushed_cards=True,
        supported_account_holder_data=ACCOUNT_HOLDER_DATA_KINDS,
        required_account_holder_data=("NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"),
        supports_signature=True,
        logo=LogoStyle(initials="C2P", colour="#26a269", shape="diamond"),
        experience="click_to_pay",
    ),
    SimulatedTokenRequestor(
        trid=NO_PUSH_TRID,
        name="Corner Bakery Loyalty LLC",
        consumer_facing_name="Corner Bakery (no Token Connect)",
        requestor_type="MERCHANT",
        enabled_account_ranges=DEMO_ISSUER_RANGES,
        logo=LogoStyle(initials="CB", colour="#813d9c", shape="square"),
    ),
    SimulatedTokenRequestor(
        trid=CARD_ON_FILE_TRID,
        name="Veg Box Club Ltd",
        consumer_facing_name="Veg Box Club",
        requestor_type="MERCHANT",
        enabled_account_ranges=DEMO_ISSUER_RANGES,
        push_methods=("WEB",),
        supported_account_holder_data=("NAME", "EMAIL_ADDRESS"),
        supports_cardholder_authentication=True,
        supports_signature=True,
        logo=LogoStyle(initials="VB", colour="#986a44", shape="circle"),
        experience="card_on_file",
    ),
)


def padded_range_start(start: str) -> str:
    """A range start as MDES names it: right-padded with zeros to 19 digits."""
    return start.ljust(RANGE_START_DIGITS, "0")


def _significant_digits(start: str) -> str:
    if len(start) < RANGE_START_DIGITS:
        return start
    return start.rstrip("0") or "0"


def _choices(data: Mapping[str, Any], key: str, allowed: Iterable[str], default: Iterable[str]) -> tuple[str, ...]:
    values = data.get(key, default)
    allowed = tuple(allowed)
    if not isinstance(values, list | tuple) or not all(value in allowed for value in values):
        raise ValueError(f"{key} must be a list of {', '.join(allowed)}")
    return tuple(values)


def _non_empty_text(data: Mapping[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _range_starts(data: Mapping[str, Any]) -> tuple[str, ...]:
    values = data.get("enabledAccountRanges", DEMO_ISSUER_RANGES)
    # int64 as MDES lists them, or strings; a bool is an int to Python but never a range start.
    if (
        not isinstance(values, list | tuple)
        or not values
        or any(
            isinstance(v, bool) or not isinstance(v, int | str) or not _RANGE_START.fullmatch(str(v)) for v in values
        )
    ):
        raise ValueError("enabledAccountRanges must be a non-empty list of range starts of 9 to 19 digits")
    return tuple(str(value) for value in values)


def _colour(data: Mapping[str, Any]) -> str:
    # Drawn into the logo's SVG attribute and parsed for the PNG: anything but #rrggbb would break both.
    colour = data.get("logoColour", "#5e5c64")
    if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
        raise ValueError("logoColour must be #rrggbb")
    return colour


def _verbatim_push_methods(data: Mapping[str, Any]) -> tuple[dict[str, Any], ...] | None:
    methods = data.get("availablePushMethods")
    if methods is None:
        return None
    if not isinstance(methods, list) or not all(isinstance(method, dict) for method in methods):
        raise ValueError("availablePushMethods must be a list of objects")
    return tuple(methods)


def _verbatim_asset_id(data: Mapping[str, Any]) -> str | None:
    asset_id = data.get("imageAssetId")
    if asset_id is not None and (not isinstance(asset_id, str) or not asset_id):
        raise ValueError("imageAssetId must be a non-empty string")
    return asset_id


def _experience(data: Mapping[str, Any]) -> str:
    experience = data.get("sandboxExperience", "generic")
    if experience not in EXPERIENCES:
        raise ValueError(f"sandboxExperience must be one of {', '.join(EXPERIENCES)}")
    return str(experience)


def token_requestor_from_json(data: Mapping[str, Any]) -> SimulatedTokenRequestor:
    """Build a requestor registered through the control API (MDES field names plus the sandbox's own).

    Everything the sandbox later relies on is checked here (ValueError, answered 400): an unknown push method would
    break getEligibleTokenRequestors and an empty separator the requestor's page.
    """
    name = str(data["name"])
    consumer_facing_name = str(data.get("consumerFacingEntityName") or name)
    initials = "".join(word[0] for word in consumer_facing_name.split()[:2]).upper() or "TR"
    return SimulatedTokenRequestor(
        trid=str(data["tokenRequestorId"]),
        name=name,
        consumer_facing_name=consumer_facing_name,
        requestor_type=str(data.get("tokenRequestorType", "MERCHANT")),
        enabled_account_ranges=_range_starts(data),
        push_methods=_choices(data, "supportedPushMethods", PUSH_METHOD_PATHS, ("WEB",)),
        wallet_id=data.get("walletId"),
        supports_multiple_pushed_cards=bool(data.get("supportsMultiplePushedCards", False)),
        supported_account_holder_data=_choices(data, "supportedAccountHolderData", ACCOUNT_HOLDER_DATA_KINDS, ()),
        required_account_holder_data=_choices(data, "requiredAccountHolderData", ACCOUNT_HOLDER_DATA_KINDS, ()),
        supports_cardholder_authentication=bool(data.get("supportsCardHolderAuthentication", False)),
        supports_signature=bool(data.get("tokenRequestorSignatureSupport", False)),
        supports_issuer_initiated_digitization_data=bool(data.get("supportIssuerInitiatedDigitizationData", False)),
        receipts_separator=_non_empty_text(data, "receiptsSeparator", ","),
        signature_param_name=_non_empty_text(data, "signatureParamName", "pushAccountData"),
        logo=LogoStyle(initials=initials[:3], colour=_colour(data), shape="circle"),
        asset_id=_verbatim_asset_id(data),
        available_push_methods=_verbatim_push_methods(data),
        experience=_experience(data),
    )
