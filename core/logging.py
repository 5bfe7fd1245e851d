"""Log formatting: one JSON object per line, with card numbers, push receipts and bearer links masked and the request
id attached."""

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from core.card_numbers import mask_card_numbers_in
from core.request_context import current_request_id

REDACTED = "[redacted]"

# Paths whose last segment is a bearer token (a landing link, a continue-on-phone link, a "Was this you?" link):
# Django and the web server log request paths, e.g. for every 404 or 429.
_BEARER_PATHS = re.compile(r"(/(?:card/open|continue|was-this-you)/)[A-Za-z0-9_-]{8,}")
# A request's repr quotes its full path: its query string may carry receipts and callback signatures.
_QUERY_IN_REPR = re.compile(r"\?[^'\"]*")

# A push receipt is a bearer value for 15 minutes, and it travels in URLs: the token requestor's address carries
# pushAccountReceipts (and a signature over them), the callback one `results[<receipt>]=<code>` per receipt.
# Access logs and `next` parameters show those URLs raw or percent-encoded once or more (%5B, %255B, ...).
_PCT = r"%(?:25)*"
_RECEIPT_PARAMETER = re.compile(
    rf"((?:pushAccountReceipts|receipts|pushAccountData)(?:=|{_PCT}3D))(?:(?!{_PCT}26)[^&;#\s\"'<>])+",
    re.IGNORECASE,
)
_RESULTS_KEY = re.compile(rf"(results(?:\[|{_PCT}5B))(?:(?!{_PCT}5D)[^\]&;#\s\"'<>])+", re.IGNORECASE)
# A JWS (the token requestor's signed redirect payload holds the receipts, base64url-encoded).
_JWS = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
# A receipt anywhere else: MDES issues them as a 3-letter product prefix and a UUID ("MCC-<uuid>").
_RECEIPT = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{3}-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"(?![0-9A-Fa-f])"
)


def scrub_log_text(text: str) -> str:
    """`text` with card numbers masked, and bearer tokens in link paths and push receipts replaced."""
    text = _BEARER_PATHS.sub(rf"\1{REDACTED}", mask_card_numbers_in(text))
    text = _RECEIPT_PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _RESULTS_KEY.sub(rf"\1{REDACTED}", text)
    text = _JWS.sub(REDACTED, text)
    return _RECEIPT.sub(REDACTED, text)


def _scrubbed(value: Any) -> Any:
    """Strings scrubbed, also inside lists, tuples and dicts (a structured extra value); anything else as it is."""
    if isinstance(value, str):
        return scrub_log_text(value)
    if isinstance(value, list | tuple):
        return type(value)(_scrubbed(item) for item in value)
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    return value


class MaskCardNumbersFilter(logging.Filter):
    """Masks anything that looks like a card number, a push receipt or the token of a bearer link, in a record's
    message, arguments and extra values (a request object included: it would be logged by its full path).

    Code must never log a card number, a receipt or a link token; this filter is the second line of defence, not
    the first.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_log_text(str(record.msg))
        if isinstance(record.args, tuple | dict):
            record.args = _scrubbed(record.args)
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS or (key == "request_id" and isinstance(value, str) and _OWN_ID.fullmatch(value)):
                continue
            if key == "request" and value is not None and not isinstance(value, str):
                setattr(record, key, scrub_log_text(_QUERY_IN_REPR.sub("", repr(value))))
            else:
                setattr(record, key, _scrubbed(value))
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


# The request id is the portal's own (RequestIdMiddleware: a UUID or trace id in hex, never the client's). About one in
# three hundred holds a run of digits that passes the Luhn check: masked, its access-log line could not be found by it.
_OWN_ID = re.compile(r"[0-9a-f]{32}")
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(_BaseJsonFormatter):
    """python-json-logger's formatter with the masked exception text as well."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's own method name
        text = super().formatException(ei)
        return scrub_log_text(text if isinstance(text, str) else "\n".join(text))
