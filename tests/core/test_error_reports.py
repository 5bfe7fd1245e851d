"""Error reports: an event captured by Sentry's SDK leaves with no card number, receipt, code or token."""

import json

import sentry_sdk
from sentry_sdk.transport import Transport

from core.error_reports import error_report_scrub
from tests.factories import TEST_CARD_NUMBERS

RECEIPT = "MDES-RECEIPT-0123456789abcdef"  # pragma: allowlist secret
LINK_TOKEN = "Zq3v5pM8xK2bN7cR4tY6wA9sD1fG0hJk"  # pragma: allowlist secret
CODE = "12345678"
APP_TOKEN = "Token 9f8e7d6c5b4a"  # module constants: the event's source context shows the lines near the raise


class Captured(Transport):
    def __init__(self, options: dict) -> None:
        super().__init__(options)
        self.envelopes: list = []

    def capture_envelope(self, envelope) -> None:
        self.envelopes.append(envelope)


def test_a_captured_event_is_scrubbed_before_it_is_sent() -> None:
    transport = Captured({})
    sentry_sdk.init(dsn="https://public@example.invalid/1", transport=transport, before_send=error_report_scrub)
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_context("push", {"receipt": RECEIPT, "requestor": "50100000011"})
            scope.set_extra("one_time_code", CODE)
            scope.set_extra("note", f"card {TEST_CARD_NUMBERS[0]} at /card/open/{LINK_TOKEN}/")
            scope.add_event_processor(
                lambda event, hint: {
                    **event,
                    "request": {
                        "url": f"https://portal.test/push/1/return/?receipts={RECEIPT}",
                        "query_string": f"receipts={RECEIPT}",
                        "headers": {"Authorization": APP_TOKEN, "User-Agent": "x"},
                    },
                }
            )
            try:
                raise ValueError(f"could not push {TEST_CARD_NUMBERS[0]}")
            except ValueError as error:
                sentry_sdk.capture_exception(error)
        sentry_sdk.flush()
    finally:
        sentry_sdk.init()  # no DSN: reporting off again

    (envelope,) = transport.envelopes
    (item,) = [i for i in envelope.items if i.type == "event"]
    sent = item.payload.get_bytes().decode()
    event = json.loads(sent)

    for secret in (TEST_CARD_NUMBERS[0], RECEIPT, CODE, LINK_TOKEN, APP_TOKEN):
        assert secret not in sent
    assert event["contexts"]["push"] == {"receipt": "[redacted]", "requestor": "50100000011"}
    assert event["request"]["url"] == "https://portal.test/push/1/return/"
    assert event["request"]["headers"]["User-Agent"] == "x"
    assert "/card/open/[redacted]/" in event["extra"]["note"]
    assert event["exception"]["values"][0]["type"] == "ValueError"
