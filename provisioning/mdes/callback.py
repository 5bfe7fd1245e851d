"""The token requestor's callback, as the token requestor guide specifies it (mdes-beyond-the-push.md section 0).

`results[<pushAccountReceipt>]=<RESULT>` once per receipt, with `|<tokenUniqueReference>` appended for APPROVED and
REQUIRE_ADDITIONAL_AUTHENTICATION (and, from merchants with post-tokenization authentication, AUTHENTICATED and
DELETED); `[`, `]` and `|` arrive URL-encoded, which the query parser has already undone.

All of it is what the cardholder's browser reported: a result code outside the guide's list reads as UNKNOWN, and
a token unique reference that is not 1-64 letters, digits, `-` or `_` is dropped (the result stands). A reference
that passes is only ever a key for asking the network (Customer Service API search), never evidence of anything.
"""

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from provisioning.selectors import MAX_CARDS_PER_PUSH

RESULTS_PREFIX = "results["
# MDES issues a receipt as a 3-character product prefix and a UUID (40 characters) and names no maximum; nothing
# much longer is one of its receipts.
RECEIPT_MAX_LENGTH = 128
_TOKEN_UNIQUE_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CallbackResult(enum.StrEnum):
    APPROVED = "APPROVED"
    REQUIRE_ADDITIONAL_AUTHENTICATION = "REQUIRE_ADDITIONAL_AUTHENTICATION"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    AUTHENTICATED = "AUTHENTICATED"  # merchants with post-tokenization authentication
    DELETED = "DELETED"  # likewise: authentication failed and the merchant deleted the token
    UNKNOWN = "UNKNOWN"  # anything else the browser brought


@dataclass(frozen=True)
class ReportedResult:
    """One receipt's result as the callback reported it (unverified)."""

    result: CallbackResult
    token_unique_reference: str | None = None


def token_unique_reference_valid(value: str) -> bool:
    return bool(_TOKEN_UNIQUE_REFERENCE.fullmatch(value))


def reported_result(value: str) -> ReportedResult:
    """`<RESULT>` or `<RESULT>|<tokenUniqueReference>`, read as tolerantly as is safe."""
    code, _, reference = value.partition("|")
    try:
        result = CallbackResult(code.strip())
    except ValueError:
        result = CallbackResult.UNKNOWN
    reference = reference.strip()
    return ReportedResult(
        result=result, token_unique_reference=reference if token_unique_reference_valid(reference) else None
    )


class CallbackResultsError(ValueError):
    """A callback no token requestor sends: more results than a push has receipts, or a receipt empty or too long."""


def callback_results(query: Iterable[tuple[str, str]]) -> dict[str, ReportedResult]:
    """The results of a callback's query (decoded key/value pairs), by receipt; other parameters are ignored.

    A receipt given twice keeps its first value: a requestor sends each once, so a second one was added later.
    Raises CallbackResultsError rather than take in more than one push can bring back."""
    results: dict[str, ReportedResult] = {}
    for key, value in query:
        if not (key.startswith(RESULTS_PREFIX) and key.endswith("]")):
            continue
        receipt = key[len(RESULTS_PREFIX) : -1]
        if not receipt or len(receipt) > RECEIPT_MAX_LENGTH:
            raise CallbackResultsError("A receipt in the callback is empty or longer than any MDES issues")
        if receipt not in results:
            results[receipt] = reported_result(value)
        if len(results) > MAX_CARDS_PER_PUSH:
            raise CallbackResultsError(f"The callback carries more than {MAX_CARDS_PER_PUSH} results")
    return results
