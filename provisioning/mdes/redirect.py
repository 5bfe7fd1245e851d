"""The address the cardholder is sent to at the token requestor after a successful push.

With a signature, the query carries exactly the payload MDES signed (receipts, callbackURL, flags, locale, ...)
plus the JWS itself, value for value, so that the token requestor can prove nothing was altered on the way.
Without one, it carries the receipts and the signatureData the portal sent. Parameter name of the JWS and the
separator of several receipts are per-requestor settings (Mastercard's readable material does not fix them).
"""

import json
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from provisioning.mdes.types import PushResult

RECEIPTS_PARAMETER = "pushAccountReceipts"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def append_query(url: str, pairs: list[tuple[str, str]]) -> str:
    """`url` with `pairs` appended to its query (keeping any query and fragment it already has)."""
    parts = urlsplit(url)
    extra = urlencode(pairs, quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def redirect_parameters(
    result: PushResult, *, receipts_separator: str = ",", signature_param_name: str = "signature"
) -> list[tuple[str, str]]:
    if result.signature and result.signed_payload is not None:
        receipts = list(result.signed_payload[RECEIPTS_PARAMETER])
        values = {name: value for name, value in result.signed_payload.items() if name != RECEIPTS_PARAMETER}
    else:
        receipts = list(result.receipts)
        values = result.sent_signature_data.to_json() if result.sent_signature_data else {}
    if not receipts:
        raise ValueError("There is no receipt to send to the token requestor")
    if any(receipts_separator in receipt for receipt in receipts):
        raise ValueError("The receipts separator occurs inside a receipt")
    pairs = [(RECEIPTS_PARAMETER, receipts_separator.join(receipts))]
    pairs += [(name, _text(value)) for name, value in values.items()]
    if result.signature:
        pairs.append((signature_param_name, result.signature))
    return pairs


def token_requestor_redirect_url(
    uri: str, result: PushResult, *, receipts_separator: str = ",", signature_param_name: str = "signature"
) -> str:
    """The push method `uri` (from availablePushMethods) with the redirect parameters appended."""
    pairs = redirect_parameters(
        result, receipts_separator=receipts_separator, signature_param_name=signature_param_name
    )
    return append_query(uri, pairs)
