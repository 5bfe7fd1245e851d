"""The address the cardholder is sent to at the token requestor after a successful push.

As the token requestor guide (mdes-beyond-the-push.md section 0) specifies it:
- with a signature, the signed JWS goes as the single parameter `pushAccountData`: its payload already carries the
  receipts, callbackURL, flags and locale, so nothing travels beside it that the requestor could not verify;
- without one, the receipts go comma-separated in `pushAccountReceipts`, with the signatureData the portal sent and
  `callbackRequired`, every flag explicit (the requestor's defaults are not ours to rely on).

Both are the defaults of per-requestor settings (TokenRequestor.receipts_separator, signature_param_name,
signed_redirect_with_plain_parameters), which keep requestors configured for the older convention (plain parameters
next to the JWS, under another parameter name) working.
"""

import json
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from provisioning.mdes.types import PushResult

RECEIPTS_PARAMETER = "pushAccountReceipts"
SIGNED_DATA_PARAMETER = "pushAccountData"
CALLBACK_REQUIRED_PARAMETER = "callbackRequired"


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
    result: PushResult,
    *,
    receipts_separator: str = ",",
    signature_param_name: str = SIGNED_DATA_PARAMETER,
    signed_with_plain_parameters: bool = False,
    callback_required: bool = True,
) -> list[tuple[str, str]]:
    """The query parameters of the redirect, in order.

    `signed_with_plain_parameters`: with a JWS, also send the signed values as plain parameters, value for value
    (the convention before the guide settled it; some requestors may still read it). `callback_required` is sent
    whenever a callbackURL is, outside the JWS (MDES does not sign it).
    """
    signed = bool(result.signature and result.signed_payload is not None)
    if signed and result.signed_payload is not None:
        receipts = list(result.signed_payload[RECEIPTS_PARAMETER])
        values = {name: value for name, value in result.signed_payload.items() if name != RECEIPTS_PARAMETER}
    else:
        receipts = list(result.receipts)
        values = result.sent_signature_data.to_json() if result.sent_signature_data else {}
    if not receipts:
        raise ValueError("There is no receipt to send to the token requestor")
    if signed and result.signature and not signed_with_plain_parameters:
        return [(signature_param_name, result.signature)]
    if any(receipts_separator in receipt for receipt in receipts):
        raise ValueError("The receipts separator occurs inside a receipt")
    pairs = [(RECEIPTS_PARAMETER, receipts_separator.join(receipts))]
    for name, value in values.items():
        pairs.append((name, _text(value)))
        if name == "callbackURL":
            pairs.append((CALLBACK_REQUIRED_PARAMETER, _text(callback_required)))
    if signed and result.signature:
        pairs.append((signature_param_name, result.signature))
    return pairs


def token_requestor_redirect_url(
    uri: str,
    result: PushResult,
    *,
    receipts_separator: str = ",",
    signature_param_name: str = SIGNED_DATA_PARAMETER,
    signed_with_plain_parameters: bool = False,
    callback_required: bool = True,
) -> str:
    """The push method `uri` (from availablePushMethods) with the redirect parameters appended."""
    pairs = redirect_parameters(
        result,
        receipts_separator=receipts_separator,
        signature_param_name=signature_param_name,
        signed_with_plain_parameters=signed_with_plain_parameters,
        callback_required=callback_required,
    )
    return append_query(uri, pairs)
