"""Error reports to Sentry, off unless SENTRY_DSN is set, scrubbed before they leave the process.

Sentry's own defaults already drop cookies and auth headers (send_default_pii=False); this adds what is ours to
protect: card numbers anywhere in the event (core.card_numbers), bearer link tokens in paths (core.logging), and
every value under a name that may hold a receipt, a code, a token or a secret, query strings included (receipts
and callback signatures travel there).
"""

import re
from typing import Any, cast

from sentry_sdk.types import Event, Hint

_SECRET_NAMES = re.compile(
    r"receipt|code|token|secret|password|passwd|signature|authorization|cookie|session|csrf|key|card", re.I
)
REDACTED = "[redacted]"


def _scrub(value: Any, name: str = "") -> Any:
    from core.logging import scrub_log_text

    if name and _SECRET_NAMES.search(name):
        return REDACTED
    if isinstance(value, str):
        return scrub_log_text(value)
    if isinstance(value, dict):
        return {key: _scrub(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def error_report_scrub(event: Event, hint: Hint) -> Event:
    """Sentry's before_send: the event without card data, receipts, codes or tokens."""
    request: Any = event.get("request")
    if isinstance(request, dict):
        request.pop("query_string", None)
        request.pop("cookies", None)
        request.pop("data", None)  # form bodies carry codes and card choices
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    return cast(Event, _scrub(dict(event)))


def error_reports_configure(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        send_default_pii=False,
        max_request_body_size="never",
        before_send=error_report_scrub,
        traces_sample_rate=traces_sample_rate,
    )
