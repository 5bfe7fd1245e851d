"""getEligibleTokenRequestors: the fixture requestors for the demo issuer's ranges, and MDES's input errors."""

import json
from collections.abc import Callable

import pytest

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.fixtures import CARD_ON_FILE_TRID, CLICK_TO_PAY_TRID, DEMOPAY_TRID, NO_PUSH_TRID, SUNDAY_STORE_TRID
from sandbox.keys import DemoKeys
from tests.fixtures.openapi import schema_errors
from tests.fixtures.sandbox_server import ELIGIBLE_PATH, SandboxServer

DEMO_RANGES = ["555555555", "510510510", "520082828", "222300004"]


def _errors(response) -> list[tuple[str, str]]:
    return [(error["reasonCode"], error["description"]) for error in response.json()["errors"]]


def test_every_fixture_requestor_is_enabled_for_the_demo_issuer(sandbox: SandboxServer) -> None:
    response = sandbox.post_json(ELIGIBLE_PATH, {"requestId": "r-1", "accountRanges": DEMO_RANGES})
    assert response.status_code == 200
    body = response.json()
    assert schema_errors(body, "GetEligibleTokenRequestorsResponseData") == []
    assert body["responseId"] == "r-1"
    by_trid = {tr["tokenRequestorId"]: tr for tr in body["tokenRequestors"]}
    assert set(by_trid) == {DEMOPAY_TRID, SUNDAY_STORE_TRID, CLICK_TO_PAY_TRID, NO_PUSH_TRID, CARD_ON_FILE_TRID}
    for token_requestor in by_trid.values():
        assert sorted(token_requestor["enabledAccountRanges"]) == sorted(int(r.ljust(19, "0")) for r in DEMO_RANGES)
        for method in token_requestor.get("availablePushMethods", []):
            assert method["uri"].startswith(sandbox.origin + "/tr/")

    demopay = by_trid[DEMOPAY_TRID]
    assert demopay["tokenRequestorType"] == "WALLET"
    assert demopay["walletId"]
    assert demopay["supportedPushMethods"] == ["ANDROID", "IOS", "WEB"]
    assert demopay["supportsMultiplePushedCards"] is False
    assert demopay["supportedAccountHolderData"] == ["NAME", "ADDRESS", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"]
    assert demopay["supportIssuerInitiatedDigitizationData"] is True

    sunday = by_trid[SUNDAY_STORE_TRID]
    assert (sunday["tokenRequestorType"], sunday["supportedPushMethods"]) == ("MERCHANT", ["WEB", "IOS"])
    assert sunday["supportsMultiplePushedCards"] is True
    assert "walletId" not in sunday

    # Not in Token Connect: the Token Connect fields are absent, as the specification says.
    no_push = by_trid[NO_PUSH_TRID]
    assert no_push["supportsTokenConnect"] is False
    for absent in ("supportedPushMethods", "supportsMultiplePushedCards", "supportedAccountHolderData"):
        assert absent not in no_push


def test_only_the_requested_ranges_are_reported(sandbox: SandboxServer) -> None:
    body = sandbox.post_json(ELIGIBLE_PATH, {"requestId": "r-2", "accountRanges": ["5555555550000000000"]}).json()
    assert {tuple(tr["enabledAccountRanges"]) for tr in body["tokenRequestors"]} == {(5555555550000000000,)}


def test_the_deprecated_filter_drops_requestors_outside_token_connect(sandbox: SandboxServer) -> None:
    body = sandbox.post_json(
        ELIGIBLE_PATH, {"requestId": "r-3", "accountRanges": DEMO_RANGES, "supportsTokenConnect": True}
    ).json()
    assert NO_PUSH_TRID not in {tr["tokenRequestorId"] for tr in body["tokenRequestors"]}


def test_a_range_nobody_enabled_gives_an_empty_list(sandbox: SandboxServer) -> None:
    body = sandbox.post_json(ELIGIBLE_PATH, {"requestId": "r-4", "accountRanges": ["411111111"]}).json()
    assert body == {"responseId": "r-4", "tokenRequestors": []}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"accountRanges": DEMO_RANGES}, ("MISSING_REQUIRED_FIELD", "Missing Required Field - requestId")),
        (
            {"requestId": "x" * 65, "accountRanges": DEMO_RANGES},
            ("INVALID_FIELD_LENGTH", "Invalid Field Length - requestId"),
        ),
        ({"requestId": "r"}, ("MISSING_REQUIRED_FIELD", "Missing Required Field - accountRanges")),
        (
            {"requestId": "r", "accountRanges": "555555555"},
            ("INVALID_FIELD_FORMAT", "Invalid Field Format - accountRanges"),
        ),
        (
            {"requestId": "r", "accountRanges": [str(500000000 + n) for n in range(26)]},
            ("INVALID_FIELD_LENGTH", "Invalid Field Length - accountRanges"),
        ),
        (
            {"requestId": "r", "accountRanges": ["55555555"]},
            ("INVALID_FIELD_LENGTH", "Invalid Field Length - accountRanges[0]"),
        ),
        (
            {"requestId": "r", "accountRanges": ["5" * 20]},
            ("INVALID_FIELD_LENGTH", "Invalid Field Length - accountRanges[0]"),
        ),
        (
            {"requestId": "r", "accountRanges": ["555555555", "55555555A"]},
            ("INVALID_FIELD_FORMAT", "Invalid Field Format - accountRanges[1]"),
        ),
        (
            {"requestId": "r", "accountRanges": DEMO_RANGES, "supportsTokenConnect": "maybe"},
            ("INVALID_FIELD_FORMAT", "Invalid Field Format - supportsTokenConnect"),
        ),
    ],
)
def test_input_errors_in_mdes_shape(sandbox: SandboxServer, payload: dict, expected: tuple[str, str]) -> None:
    response = sandbox.post_json(ELIGIBLE_PATH, payload)
    assert response.status_code == 400
    assert schema_errors(response.json(), "ErrorWrapper") == []
    assert _errors(response) == [expected]
    assert all(error["source"] == "INPUT" and error["recoverable"] is False for error in response.json()["errors"])
    if payload.get("requestId") == "r":
        assert response.json()["responseId"] == "r"


def test_twenty_five_ranges_are_accepted(sandbox: SandboxServer) -> None:
    ranges = [str(500000000 + n) for n in range(24)] + ["555555555"]
    assert sandbox.post_json(ELIGIBLE_PATH, {"requestId": "r", "accountRanges": ranges}).status_code == 200


def test_a_body_that_is_not_json(sandbox: SandboxServer) -> None:
    response = sandbox.call("POST", ELIGIBLE_PATH, "{not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["reasonCode"] == "INVALID_JSON"


def test_input_errors_can_come_inside_a_200_instead(sandbox_keys: DemoKeys, signed: Callable[..., dict]) -> None:
    app = create_app(SandboxConfig(keys=sandbox_keys, request_error_status=200))
    response = app.test_client().post(
        ELIGIBLE_PATH,
        data=json.dumps({"requestId": "r"}),
        headers=signed("http://localhost" + ELIGIBLE_PATH, '{"requestId": "r"}'),
    )
    assert response.status_code == 200
    assert response.get_json()["errors"][0]["reasonCode"] == "MISSING_REQUIRED_FIELD"
