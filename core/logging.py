"""Log formatting: one JSON object per line, with card numbers and bearer links masked and the request id attached."""

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from core.card_numbers import mask_card_numbers_in
from core.request_context import current_request_id

# Paths whose last segment is a bearer token (a landing link, a continue-on-phone link): Django and the web
# server log request paths, e.g. for every 404 or 429.
_BEARER_PATHS = re.compile(r"(/(?:card/open|continue)/)[A-Za-z0-9_-]{8,}")
# A request's repr quotes its full path: its query string may carry receipts and callback signatures.
_QUERY_IN_REPR = re.compile(r"\?[^'\"]*")


def scrub_log_text(text: str) -> str:
    """`text` with card numbers masked and bearer tokens in link paths replaced."""
    return _BEARER_PATHS.sub(r"\1[redacted]", mask_card_numbers_in(text))


class MaskCardNumbersFilter(logging.Filter):
    """Masks anything that looks like a card number, and the token of a bearer link, in a record's message,
    arguments and extra values (a request object included: it would be logged by its path).

    Code must never log a card number or a link token; this filter is the second line of defence, not the first.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_log_text(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(scrub_log_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrub_log_text(v) if isinstance(v, str) else v for k, v in record.args.items()}
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS:
                continue
            if isinstance(value, str):
                setattr(record, key, scrub_log_text(value))
            elif key == "request" and value is not None:
                setattr(record, key, scrub_log_text(_QUERY_IN_REPR.sub("", repr(value))))
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(_BaseJsonFormatter):
    """python-json-logger's formatter with the masked exception text as well."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's own method name
        text = super().formatException(ei)
        return scrub_log_text(text if isinstance(text, str) else "\n".join(text))
