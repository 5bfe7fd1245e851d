"""I3/I4: log records are one JSON line each, and card numbers never reach them in the clear."""

import io
import json
import logging
from collections.abc import Iterator
from logging.config import dictConfig

import pytest
from django.conf import settings

CARD_NUMBER = "5555555555554444"


@pytest.fixture
def portal_log() -> Iterator[io.StringIO]:
    """The production logging configuration, writing into a buffer."""
    dictConfig(settings.LOGGING)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    yield stream
    dictConfig(settings.LOGGING)


def test_card_number_in_message_args_extra_and_traceback_is_masked(portal_log: io.StringIO) -> None:
    log = logging.getLogger("portal.test")
    log.warning("pushing %s", CARD_NUMBER, extra={"card": f"{CARD_NUMBER[:4]} {CARD_NUMBER[4:8]} 5555 4444"})
    try:
        raise ValueError(f"bad card {CARD_NUMBER}")
    except ValueError:
        log.exception("failed")
    output = portal_log.getvalue()
    assert CARD_NUMBER not in output.replace(" ", "")
    assert "555555••••••4444" in output


def test_injected_newlines_stay_inside_one_json_record(portal_log: io.StringIO) -> None:
    logging.getLogger("portal.test").warning("user said: %s", 'hi\r\n{"levelname": "CRITICAL", "forged": true}')
    lines = portal_log.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["levelname"] == "WARNING"
    assert "forged" not in record


def test_a_logged_request_shows_its_path_without_the_query_string(portal_log: io.StringIO, rf) -> None:
    # Django's own warnings (404, 405, 429) attach the request, whose repr quotes the full path.
    request = rf.get("/push/1/return/", {"receipts": "RECEIPT-SECRET-1", "signature": "SIG"})
    logging.getLogger("django.request").warning("Method Not Allowed: %s", request.path, extra={"request": request})
    record = json.loads(portal_log.getvalue())
    assert "RECEIPT-SECRET-1" not in portal_log.getvalue()
    assert record["request"] == "<WSGIRequest: GET '/push/1/return/'>"
