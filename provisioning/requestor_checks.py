"""What a refresh may store of one token requestor MDES listed (pen test findings 1 and 7).

Each requestor is checked on its own, so one odd requestor never fails the whole refresh. Every value that reaches
a page, a URL, a header or a column is checked against the specification (mdes-token-connect.md §2.1) and the
model, and each finding becomes a warning in the run's JobRun:
- skipped, its stored version (if any) kept as it was: a TRID that is not 11 digits, a type other than WALLET or
  MERCHANT, a name or consumer-facing name that is empty or holds control or bidirectional-override characters;
- cut to the column's length, visibly (ending in "…"): a longer name or consumer-facing name;
- left out: a push method whose type or URI is not allowed (provisioning/mdes/push_methods.py) or whose type came
  before, a wallet id other than 1-3 letters or digits, a logo asset id the portal's logo URLs cannot carry,
  account holder data kinds that are not enumeration values, range starts that are not 19 digits.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import models

from provisioning.mdes.push_methods import PushUriRefusedError, push_uri_source
from provisioning.mdes.types import EligibleTokenRequestor
from provisioning.models import TokenRequestor

_TRID = re.compile(r"[0-9]{11}")
_ENUM_VALUE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")  # PushMethod.type and the like: 1-32 in the specification
_WALLET_ID = (re.compile(r"[A-Za-z0-9]{1,3}"), "1 to 3 letters or digits")
# What the logo URLs take (provisioning/urls.py, api/urls.py).
_ASSET_ID = (re.compile(r"[A-Za-z0-9_-]{1,64}"), "1 to 64 letters, digits, - or _")
_RANGE_START = re.compile(r"[0-9]{19}")
# Bidirectional embeddings, overrides, isolates and marks: they can make a name read as another one.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHOWN = 60


class RequestorSkippedError(Exception):
    """The requestor cannot be stored; the message is the warning."""


@dataclass(frozen=True)
class CheckedRequestor:
    trid: str
    values: dict[str, Any]  # the fields a refresh synchronises (refresh.SYNCED_FIELDS), ready to store
    ranges: frozenset[str]
    warnings: tuple[str, ...]


def shown(value: object) -> str:
    """A value from the network as a warning may quote it: short, and escaped (repr) so it cannot forge text."""
    text = str(value)
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


def requestor_label(trid: str | None) -> str:
    """How a warning names a requestor: its TRID, quoted and shortened unless it is a well-formed one."""
    if trid is None:
        return "without a readable tokenRequestorId"
    return trid if _TRID.fullmatch(trid) else shown(trid)


def _column_length(field: str) -> int:
    """A text column's length (the specification's: 1-64 for the legal name, 1-100 for the consumer-facing one)."""
    column = TokenRequestor._meta.get_field(field)
    return column.max_length if isinstance(column, models.CharField) and column.max_length else 0


def _name(trid: str, field: str, value: str, max_length: int, warnings: list[str]) -> str:
    value = value.strip()
    if not value:
        raise RequestorSkippedError(f"token requestor {trid} skipped: its {field} is empty")
    if any(unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS for char in value):
        raise RequestorSkippedError(
            f"token requestor {trid} skipped: its {field} holds control or bidirectional characters: {shown(value)}"
        )
    if len(value) > max_length:
        warnings.append(f"token requestor {trid}: {field} cut to {max_length} characters (MDES sent {len(value)})")
        value = value[: max_length - 1] + "…"
    return value


def _push_methods(item: EligibleTokenRequestor, warnings: list[str]) -> list[dict[str, str]]:
    trid = item.token_requestor_id
    methods: dict[str, str] = {}
    for method in item.available_push_methods:
        if not _ENUM_VALUE.fullmatch(method.type):
            warnings.append(
                f"token requestor {trid}: push method of type {shown(method.type)} left out, not an enumeration value"
            )
            continue
        if method.type in methods:
            warnings.append(f"token requestor {trid}: a second {method.type} push method left out")
            continue
        try:
            push_uri_source(method.type, method.uri)
        except PushUriRefusedError as refusal:
            warnings.append(
                f"token requestor {trid}: {method.type} push method left out, its URI {refusal}: {shown(method.uri)}"
            )
            continue
        methods[method.type] = method.uri
    stored: list[dict[str, str]] = [{"type": kind, "uri": uri} for kind, uri in methods.items()]
    # The specification lists the types in supportedPushMethods and gives URIs only in the push answer: a type
    # listed there alone is stored without a URI (it makes the requestor offered on that platform; the push
    # answer's URI, checked at push time, is where the cardholder goes).
    given_uris = {method.type for method in item.available_push_methods}
    for kind in dict.fromkeys(item.supported_push_methods or ()):
        if kind in given_uris:
            continue  # stored above with its URI, or left out because of it
        if not _ENUM_VALUE.fullmatch(kind):
            warnings.append(
                f"token requestor {trid}: supported push method {shown(kind)} left out, not an enumeration value"
            )
            continue
        stored.append({"type": kind})
    return stored


def _optional(trid: str, field: str, value: str | None, rule: tuple[re.Pattern[str], str], warnings: list[str]) -> str:
    pattern, meaning = rule
    if value is None or pattern.fullmatch(value):
        return value or ""
    warnings.append(f"token requestor {trid}: {field} {shown(value)} left out, it is not {meaning}")
    return ""


def _kinds(item: EligibleTokenRequestor, warnings: list[str]) -> list[str]:
    given = dict.fromkeys(item.supported_account_holder_data or ())
    kinds = [kind for kind in given if _ENUM_VALUE.fullmatch(kind)]
    if len(kinds) < len(given):
        odd = ", ".join(kind for kind in given if kind not in kinds)
        warnings.append(
            f"token requestor {item.token_requestor_id}: supportedAccountHolderData {shown(odd)} left out, "
            "not enumeration values"
        )
    return kinds


def _ranges(item: EligibleTokenRequestor, warnings: list[str]) -> frozenset[str]:
    ranges = frozenset(start for start in item.enabled_account_ranges if _RANGE_START.fullmatch(start))
    dropped = set(item.enabled_account_ranges) - ranges
    if dropped:
        warnings.append(
            f"token requestor {item.token_requestor_id}: {len(dropped)} range start(s) that are not 19 digits "
            f"left out: {shown(', '.join(sorted(dropped)))}"
        )
    return ranges


def token_requestor_checked(item: EligibleTokenRequestor) -> CheckedRequestor:
    """The values to store of `item`, with what was cut or left out; RequestorSkippedError if it cannot be stored."""
    trid = item.token_requestor_id
    if not _TRID.fullmatch(trid):
        raise RequestorSkippedError(
            f"token requestor {requestor_label(trid)} skipped: its tokenRequestorId is not 11 digits"
        )
    if item.token_requestor_type not in TokenRequestor.Type.values:
        raise RequestorSkippedError(
            f"token requestor {trid} skipped: its tokenRequestorType {shown(item.token_requestor_type)} "
            "is not WALLET or MERCHANT"
        )
    warnings: list[str] = []
    values = {
        "name": _name(trid, "name", item.name, _column_length("name"), warnings),
        "consumer_facing_name": _name(
            trid,
            "consumerFacingEntityName",
            item.consumer_facing_entity_name,
            _column_length("consumer_facing_name"),
            warnings,
        ),
        "requestor_type": item.token_requestor_type,
        "wallet_id": _optional(trid, "walletId", item.wallet_id, _WALLET_ID, warnings),
        "image_asset_id": _optional(trid, "imageAssetId", item.image_asset_id, _ASSET_ID, warnings),
        "push_methods": _push_methods(item, warnings),
        "supports_multiple_pushed_cards": bool(item.supports_multiple_pushed_cards),
        "supported_account_holder_data": _kinds(item, warnings),
        "supports_cardholder_authentication": bool(item.supports_cardholder_authentication),
        # Listed with push methods means it takes part in Token Connect, whatever the deprecated flag says.
        "supports_token_connect": bool(item.supports_token_connect or item.supported_push_methods),
        "supports_issuer_initiated_digitization_data": bool(item.supports_issuer_initiated_digitization_data),
    }
    return CheckedRequestor(trid=trid, values=values, ranges=_ranges(item, warnings), warnings=tuple(warnings))
