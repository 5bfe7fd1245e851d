"""Log formatting: one JSON object per line, with card numbers masked and the request id attached."""

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from core.card_numbers import mask_card_numbers_in
from core.request_context import current_request_id


class MaskCardNumbersFilter(logging.Filter):
    """Masks anything that looks like a card number in a record's message and string arguments.

    Code must never log a card number; this filter is the second line of defence, not the first.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_card_numbers_in(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(mask_card_numbers_in(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask_card_numbers_in(v) if isinstance(v, str) else v for k, v in record.args.items()}
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, mask_card_numbers_in(value))
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(_BaseJsonFormatter):
    """python-json-logger's formatter with the masked exception text as well."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's own method name
        text = super().formatException(ei)
        return mask_card_numbers_in(text if isinstance(text, str) else "\n".join(text))
