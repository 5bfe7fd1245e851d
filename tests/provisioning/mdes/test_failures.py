"""G6 and error mapping: MDES down, slow, rude or redirecting; what is retried and what is not."""

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import (
    MdesApplicationError,
    MdesConfigurationError,
    MdesGatewayError,
    MdesProtocolError,
    MdesUnavailable,
)
from sandbox.fixtures import SUNDAY_STORE_TRID
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.mdes.conftest import CannedServer, funding, http_response

RANGES = ["555555555"]


def test_an_mdes_500_is_retryable(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesUnavailable) as caught:
        token_connect_client.push_multiple_accounts(
            token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()], request_id="SANDBOX-MDES-500-1"
        )
    assert caught.value.retryable
    assert (caught.value.status, caught.value.reason_codes) == (500, ("INTERNAL_SERVICE_FAILURE",))


@pytest.mark.parametrize(
    ("status", "expected"), [(503, MdesUnavailable), (429, MdesUnavailable), (403, MdesGatewayError)]
)
def test_forced_failures_map_by_status(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer, status: int, expected: type[Exception]
) -> None:
    sandbox.fail_next(status)
    with pytest.raises(expected) as caught:
        token_connect_client.get_eligible_token_requestors(RANGES)
    assert caught.value.status == status  # type: ignore[attr-defined]


def test_a_gateway_refusal_by_magic_request_id(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesGatewayError) as caught:
        token_connect_client.get_eligible_token_requestors(RANGES, request_id="SANDBOX-GATEWAY-401-x")
    assert caught.value.reason_codes == ("AUTHENTICATION_FAILED",)


def test_a_slow_answer_times_out_once_without_retry(
    client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer
) -> None:
    client = client_factory(timeout=(1.0, 0.2))
    started = time.monotonic()
    with pytest.raises(MdesUnavailable, match="in time"):
        client.push_multiple_accounts(
            token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()], request_id="SANDBOX-SLOW-0.6-t"
        )
    assert time.monotonic() - started < 0.6
    time.sleep(0.6)  # let the slow answer finish, then check it was asked for once
    assert [entry["request_id"] for entry in sandbox.request_log()] == ["SANDBOX-SLOW-0.6-t"]


def _refused_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
    return sock


@pytest.mark.parametrize(("retries", "minimum", "maximum"), [(0, 0.0, 0.3), (2, 0.39, 3.0)])
def test_a_refused_connection_is_retried_then_unavailable(
    client_factory: Callable[..., TokenConnectClient], retries: int, minimum: float, maximum: float
) -> None:
    with _refused_port() as sock:
        client = client_factory(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/mdes", connect_retries=retries)
        started = time.monotonic()
        with pytest.raises(MdesUnavailable, match="reached"):
            client.get_eligible_token_requestors(RANGES)
    # urllib3 backs off 0 s before the first retry and 0.4 s before the second: the retries happened.
    assert minimum <= time.monotonic() - started < maximum


def test_a_dropped_connection_after_sending_is_not_retried(
    canned_server: Callable[..., CannedServer], canned_client: Callable[..., TokenConnectClient]
) -> None:
    server = canned_server()  # reads the request, closes without answering
    client = canned_client(server, connect_retries=3)
    with pytest.raises(MdesUnavailable):
        client.push_multiple_accounts(token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()])
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("answer", "expected", "message"),
    [
        (http_response("200 OK", b"<html>maintenance</html>"), MdesProtocolError, "not a JSON object"),
        (http_response("200 OK", b'{"responseId": "x", "tokenReq'), MdesProtocolError, "not a JSON object"),
        (http_response("200 OK", b'{"responseId":"x","tokenRequestors":[]}', length=500), MdesProtocolError, "cut off"),
        (http_response("200 OK", b'["a"]'), MdesProtocolError, "not a JSON object"),
        (http_response("200 OK", b'{"responseId":"x"}'), MdesProtocolError, "no tokenRequestors"),
        (http_response("200 OK", b'{"tokenRequestors":[{"name":"x"}]}'), MdesProtocolError, "missing"),
        (http_response("502 Bad Gateway", b"<html>proxy</html>"), MdesUnavailable, "HTTP 502"),
        (http_response("400 Bad Request", b"nope"), MdesProtocolError, "without a readable error"),
        (
            http_response("302 Found", b"", headers={"Location": "https://evil.test/mdes"}),
            MdesProtocolError,
            "never followed",
        ),
    ],
)
def test_answers_the_sandbox_cannot_give(
    canned_server: Callable[..., CannedServer],
    canned_client: Callable[..., TokenConnectClient],
    answer: bytes,
    expected: type[Exception],
    message: str,
) -> None:
    server = canned_server(answer)
    with pytest.raises(expected, match=message):
        canned_client(server).get_eligible_token_requestors(RANGES)
    assert len(server.received) == 1


def test_errors_inside_a_200_are_a_refusal(
    canned_server: Callable[..., CannedServer], canned_client: Callable[..., TokenConnectClient]
) -> None:
    body = {"responseId": "x", "errors": [{"source": "INPUT", "reasonCode": "INVALID_FIELD_VALUE", "description": "d"}]}
    server = canned_server(http_response("200 OK", json.dumps(body).encode()))
    with pytest.raises(MdesApplicationError) as caught:
        canned_client(server).get_eligible_token_requestors(RANGES)
    assert (caught.value.status, caught.value.reason_codes) == (200, ("INVALID_FIELD_VALUE",))


@pytest.mark.parametrize(
    "body",
    [
        # An answer about an account that was not pushed.
        {"responseId": "r", "pushAccountReceipts": [{"pushAccountId": "CA-other", "pushAccountReceipt": "MCC-1"}]},
        # A signature over other receipts than the ones issued.
        {
            "responseId": "r",
            "pushAccountReceipts": [{"pushAccountId": "CA-1", "pushAccountReceipt": "MCC-1"}],
            "signature": "eyJhbGciOiJSUzI1NiJ9.eyJwdXNoQWNjb3VudFJlY2VpcHRzIjpbIk1DQy0yIl19.c2ln",
        },
        # An account with neither a receipt nor errors.
        {"responseId": "r", "pushAccountReceipts": [{"pushAccountId": "CA-1"}]},
    ],
)
def test_a_push_answer_that_contradicts_the_request(
    canned_server: Callable[..., CannedServer], canned_client: Callable[..., TokenConnectClient], body: dict
) -> None:
    server = canned_server(http_response("200 OK", json.dumps(body).encode()))
    with pytest.raises(MdesProtocolError):
        canned_client(server).push_multiple_accounts(
            token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding(push_account_id="CA-1")], request_id="r"
        )


def test_plain_http_is_refused_unless_allowed(client_factory: Callable[..., TokenConnectClient]) -> None:
    with pytest.raises(MdesConfigurationError, match="https"):
        client_factory(allow_plain_http=False)
    with pytest.raises(MdesConfigurationError, match="without query"):
        client_factory(base_url="https://api.mastercard.test/mdes?x=1")


def test_a_configured_https_client_verifies_tls(
    client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer
) -> None:
    # The sandbox speaks plain HTTP: an https client pointed at it must fail the TLS handshake, never fall back.
    client = client_factory(base_url=sandbox.mdes_base_url.replace("http://", "https://"), connect_retries=0)
    with pytest.raises(MdesUnavailable):
        client.get_eligible_token_requestors(RANGES)


class _RecordingAdapter(HTTPAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append({"url": request.url, "timeout": kwargs.get("timeout"), "verify": kwargs.get("verify")})
        return super().send(request, *args, **kwargs)


def test_every_call_has_both_timeouts_and_tls_verification(
    client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer
) -> None:
    adapter = _RecordingAdapter()
    session = requests.Session()
    session.trust_env = False  # as the client's own session: no CA bundle or proxy from the environment
    session.mount("http://", adapter)
    client = client_factory(session=session, timeout=(1.5, 4.0))
    found = client.get_eligible_token_requestors(RANGES)
    client.get_asset(str(found[0].image_asset_id))
    client.push_multiple_accounts(token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()])
    assert len(adapter.sent) == 3
    for call in adapter.sent:
        assert call["timeout"] == (1.5, 4.0)
        assert call["verify"] is True
        assert str(call["url"]).startswith(sandbox.mdes_base_url + "/")
