"""G6 and error mapping: MDES down, slow, rude, oversized or redirecting; what is retried and what is not.

A push (not idempotent) that may have reached MDES is never retryable: MdesOutcomeUnknown. The reads are
idempotent, so the same failures leave them MdesUnavailable (retryable). A request that never left is retryable
for both.
"""

import json
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from provisioning.mdes.client import MAX_RESPONSE_BYTES, TokenConnectClient
from provisioning.mdes.errors import (
    MdesApplicationError,
    MdesError,
    MdesGatewayError,
    MdesOutcomeUnknown,
    MdesProtocolError,
    MdesUnavailable,
)
from sandbox.fixtures import SUNDAY_STORE_TRID
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.mdes.conftest import CannedServer, funding, http_response

RANGES = ["555555555"]


def _push(client: TokenConnectClient, request_id: str | None = None) -> None:
    client.push_multiple_accounts(
        token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding(push_account_id="CA-1")], request_id=request_id
    )


def test_an_unknown_outcome_is_not_something_the_task_layer_retries() -> None:
    # provisioning.tasks retries MdesUnavailable and its subclasses.
    assert not issubclass(MdesOutcomeUnknown, MdesUnavailable)
    assert MdesOutcomeUnknown.retryable is False


def test_an_mdes_500_on_a_push_leaves_its_outcome_unknown(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesOutcomeUnknown) as caught:
        _push(token_connect_client, "SANDBOX-MDES-500-1")
    assert not caught.value.retryable
    assert (caught.value.status, caught.value.reason_codes) == (500, ("INTERNAL_SERVICE_FAILURE",))


def test_an_mdes_500_on_a_read_is_retryable(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesUnavailable) as caught:
        token_connect_client.get_eligible_token_requestors(RANGES, request_id="SANDBOX-MDES-500-1")
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


@pytest.mark.parametrize(
    ("status", "expected"), [(503, MdesOutcomeUnknown), (429, MdesUnavailable), (403, MdesGatewayError)]
)
def test_forced_push_failures_map_by_status(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer, status: int, expected: type[MdesError]
) -> None:
    # 429 is the gateway turning the call away before MDES processes it: a retry cannot push twice.
    sandbox.fail_next(status)
    with pytest.raises(expected) as caught:
        _push(token_connect_client)
    assert caught.value.status == status
    assert caught.value.retryable is (expected is MdesUnavailable)


def test_a_gateway_refusal_by_magic_request_id(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesGatewayError) as caught:
        token_connect_client.get_eligible_token_requestors(RANGES, request_id="SANDBOX-GATEWAY-401-x")
    assert caught.value.reason_codes == ("AUTHENTICATION_FAILED",)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (lambda client: _push(client, "SANDBOX-SLOW-0.6-t"), MdesOutcomeUnknown),
        (lambda client: client.get_eligible_token_requestors(RANGES, request_id="SANDBOX-SLOW-0.6-t"), MdesUnavailable),
    ],
    ids=["push", "read"],
)
def test_a_slow_answer_times_out_once_without_retry(
    client_factory: Callable[..., TokenConnectClient],
    sandbox: SandboxServer,
    operation: Callable[[TokenConnectClient], object],
    expected: type[MdesError],
) -> None:
    client = client_factory(timeout=(1.0, 0.2))
    started = time.monotonic()
    with pytest.raises(expected, match="in time"):
        operation(client)
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


def test_a_push_that_never_left_is_retryable(client_factory: Callable[..., TokenConnectClient]) -> None:
    with _refused_port() as sock:
        client = client_factory(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/mdes", connect_retries=0)
        with pytest.raises(MdesUnavailable, match="reached") as caught:
            _push(client)
    assert caught.value.retryable


def test_a_dropped_connection_after_sending_a_push_is_not_retried(
    canned_server: Callable[..., CannedServer], canned_client: Callable[..., TokenConnectClient]
) -> None:
    server = canned_server()  # reads the request, closes without answering
    client = canned_client(server, connect_retries=3)
    with pytest.raises(MdesOutcomeUnknown, match="broke the connection") as caught:
        _push(client)
    assert not caught.value.retryable
    assert len(server.received) == 1


def test_a_dropped_connection_on_a_read_is_retryable_but_not_retried_here(
    canned_server: Callable[..., CannedServer], canned_client: Callable[..., TokenConnectClient]
) -> None:
    server = canned_server()
    with pytest.raises(MdesUnavailable, match="broke") as caught:
        canned_client(server, connect_retries=3).get_eligible_token_requestors(RANGES)
    assert caught.value.retryable
    assert len(server.received) == 1  # the task layer decides about retrying, not the transport


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
        (
            http_response("200 OK", b"\x1f\x8b garbage", headers={"Content-Encoding": "gzip"}),
            MdesProtocolError,
            "decoded",
        ),
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


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (http_response("502 Bad Gateway", b"<html>proxy</html>"), "HTTP 502"),
        (http_response("200 OK", b'{"responseId":"r","pushAccountReceipts":[]}', length=500), "broke the connection"),
    ],
)
def test_push_answers_lost_after_mdes_got_the_push(
    canned_server: Callable[..., CannedServer],
    canned_client: Callable[..., TokenConnectClient],
    answer: bytes,
    message: str,
) -> None:
    server = canned_server(answer)
    with pytest.raises(MdesOutcomeUnknown, match=message):
        _push(canned_client(server))
    assert len(server.received) == 1


def test_errors_inside_a_200_are_a_refusal_with_mdes_response_id(
    canned_server: Callable[..., CannedServer], canned_client: Callable[..., TokenConnectClient]
) -> None:
    errors = [{"source": "INPUT", "reasonCode": "INVALID_FIELD_VALUE", "description": "d"}]
    server = canned_server(
        http_response("200 OK", json.dumps({"responseId": "mdes-answer-7", "errors": errors}).encode()),
        http_response("200 OK", json.dumps({"errors": errors}).encode()),
    )
    client = canned_client(server)
    with pytest.raises(MdesApplicationError) as caught:
        client.get_eligible_token_requestors(RANGES, request_id="ours-1")
    assert (caught.value.status, caught.value.reason_codes) == (200, ("INVALID_FIELD_VALUE",))
    assert caught.value.response_id == "mdes-answer-7"
    with pytest.raises(MdesApplicationError) as without_id:
        client.get_eligible_token_requestors(RANGES, request_id="ours-2")
    assert without_id.value.response_id is None  # never our own requestId passed off as MDES's


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


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_certificate_no_ca_signed_is_refused(
    canned_server: Callable[..., CannedServer],
    canned_client: Callable[..., TokenConnectClient],
    self_signed_tls: ssl.SSLContext,
) -> None:
    server = canned_server(http_response("200 OK", b'{"responseId":"x","tokenRequestors":[]}'), tls=self_signed_tls)
    with pytest.raises(MdesUnavailable, match="reached"):
        canned_client(server).get_eligible_token_requestors(RANGES)
    assert server.received == []  # refused in the handshake: nothing was sent
    # The same server is a working HTTPS server: only the certificate check stood in the way.
    assert requests.get(f"{server.base_url}/anything", verify=False, timeout=5).status_code == 200  # noqa: S501


def _json_of_size(size: int) -> bytes:
    opening, closing = b'{"responseId":"x","tokenRequestors":[],"padding":"', b'"}'
    return opening + b"x" * (size - len(opening) - len(closing)) + closing


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "until-close"])
def test_an_answer_of_the_maximum_size_is_read(
    canned_server: Callable[..., CannedServer],
    canned_client: Callable[..., TokenConnectClient],
    declare_length: bool,
) -> None:
    server = canned_server(http_response("200 OK", _json_of_size(MAX_RESPONSE_BYTES), declare_length=declare_length))
    assert canned_client(server).get_eligible_token_requestors(RANGES) == ()


@pytest.mark.parametrize(
    ("declare_length", "message"),
    [(True, "announces more than"), (False, "larger than")],
    ids=["content-length", "until-close"],
)
def test_an_oversized_answer_is_refused(
    canned_server: Callable[..., CannedServer],
    canned_client: Callable[..., TokenConnectClient],
    declare_length: bool,
    message: str,
) -> None:
    body = _json_of_size(MAX_RESPONSE_BYTES + 1)
    server = canned_server(http_response("200 OK", body, declare_length=declare_length))
    with pytest.raises(MdesProtocolError, match=message):
        canned_client(server).get_eligible_token_requestors(RANGES)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [(lambda client: client.get_eligible_token_requestors(RANGES), MdesUnavailable), (_push, MdesOutcomeUnknown)],
    ids=["read", "push"],
)
def test_an_answer_dripping_in_is_cut_at_the_read_timeout(
    canned_server: Callable[..., CannedServer],
    canned_client: Callable[..., TokenConnectClient],
    operation: Callable[[TokenConnectClient], object],
    expected: type[MdesError],
) -> None:
    # Every byte comes well within the read timeout, so only a deadline on the whole body stops the drip (2 s).
    parts: Sequence[bytes] = [http_response("200 OK", b"", length=20), *([b" "] * 20)]
    server = canned_server(parts, pause=0.1)
    started = time.monotonic()
    with pytest.raises(expected, match="in time"):
        operation(canned_client(server, timeout=(1.0, 0.3)))
    assert time.monotonic() - started < 1.0


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
