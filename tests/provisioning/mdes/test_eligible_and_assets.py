"""getEligibleTokenRequestors and getAsset through the real client, over HTTP, against the sandbox."""

import pytest

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesApplicationError, MdesGatewayError, MdesProtocolError
from provisioning.mdes.types import UnreadableTokenRequestor
from sandbox.fixtures import CARD_ON_FILE_TRID, CLICK_TO_PAY_TRID, DEMOPAY_TRID, NO_PUSH_TRID, SUNDAY_STORE_TRID
from tests.fixtures.sandbox_server import SandboxServer

DEMO_RANGES = ["555555555", "510510510", "520082828", "222300004"]


def test_the_demo_issuers_token_requestors(token_connect_client: TokenConnectClient) -> None:
    found = {tr.token_requestor_id: tr for tr in token_connect_client.get_eligible_token_requestors(DEMO_RANGES)}
    assert set(found) == {DEMOPAY_TRID, SUNDAY_STORE_TRID, CLICK_TO_PAY_TRID, NO_PUSH_TRID, CARD_ON_FILE_TRID}
    demopay = found[DEMOPAY_TRID]
    assert demopay.consumer_facing_entity_name == "DemoPay"
    assert demopay.token_requestor_type == "WALLET"
    assert set(demopay.enabled_account_ranges) == {start.ljust(19, "0") for start in DEMO_RANGES}
    assert [method.type for method in demopay.available_push_methods] == ["ANDROID", "IOS", "WEB"]
    assert demopay.supports_multiple_pushed_cards is False
    assert demopay.supports_issuer_initiated_digitization_data is True
    assert demopay.supports_cardholder_authentication is True
    assert found[SUNDAY_STORE_TRID].supported_account_holder_data == ("NAME",)
    no_push = found[NO_PUSH_TRID]
    assert (no_push.supported_push_methods, no_push.available_push_methods) == (None, ())


def test_more_than_25_ranges_are_asked_in_batches_and_merged(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer
) -> None:
    ranges = [str(400000000 + n) for n in range(26)] + DEMO_RANGES + ["555555555"]
    found = token_connect_client.get_eligible_token_requestors(ranges, request_id="batch")
    calls = [entry for entry in sandbox.request_log() if entry["operation"] == "getEligibleTokenRequestors"]
    assert [entry["request_id"] for entry in calls] == ["batch-1", "batch-2"]
    assert len(found) == len({tr.token_requestor_id for tr in found}) == 5
    # The demo ranges straddle both batches: the merged entry holds all of them.
    assert set(found[0].enabled_account_ranges) == {start.ljust(19, "0") for start in DEMO_RANGES}


def test_an_unreadable_entry_fails_the_call_unless_the_caller_takes_it_apart(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer
) -> None:
    odd = {"tokenRequestorId": "50100000077", "name": "Odd Wallet", "availablePushMethods": [{"type": "WEB", "uri": 5}]}
    sandbox.control("POST", "token-requestors", odd)
    with pytest.raises(MdesProtocolError):
        token_connect_client.get_eligible_token_requestors(DEMO_RANGES)

    unreadable: list[UnreadableTokenRequestor] = []
    found = token_connect_client.get_eligible_token_requestors(DEMO_RANGES, unreadable=unreadable.append)

    assert {tr.token_requestor_id for tr in found} == {
        DEMOPAY_TRID,
        SUNDAY_STORE_TRID,
        CLICK_TO_PAY_TRID,
        NO_PUSH_TRID,
        CARD_ON_FILE_TRID,
    }
    assert unreadable == [UnreadableTokenRequestor("50100000077", "PushMethod.uri has an unexpected type")]


def test_no_ranges_means_no_call(token_connect_client: TokenConnectClient, sandbox: SandboxServer) -> None:
    assert token_connect_client.get_eligible_token_requestors([]) == ()
    assert sandbox.request_log() == []


def test_an_invalid_range_is_an_application_error(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesApplicationError) as caught:
        token_connect_client.get_eligible_token_requestors(["55555555"])
    assert caught.value.status == 400
    assert caught.value.reason_codes == ("INVALID_FIELD_LENGTH",)
    assert caught.value.errors[0].source == "INPUT"
    assert not caught.value.retryable


def test_a_logo_in_png_and_svg(token_connect_client: TokenConnectClient) -> None:
    (demopay,) = [
        tr
        for tr in token_connect_client.get_eligible_token_requestors(DEMO_RANGES)
        if tr.token_requestor_id == DEMOPAY_TRID
    ]
    assert demopay.image_asset_id
    asset = token_connect_client.get_asset(demopay.image_asset_id)
    png, svg = asset.content_of_type("image/png"), asset.content_of_type("image/svg+xml")
    assert png is not None
    assert svg is not None
    assert png.data.startswith(b"\x89PNG")
    assert (png.width, png.height) == (192, 192)
    assert svg.data.startswith(b"<svg")
    assert "data" not in repr(png).replace("MediaContent(type", "")


@pytest.mark.parametrize(
    ("asset_id", "status", "reason"),
    [("00000000-0000-0000-0000-000000000000", 404, "INVALID_FIELD_VALUE"), ("not an id!", 400, "INVALID_FIELD_FORMAT")],
)
def test_unknown_and_malformed_assets(
    token_connect_client: TokenConnectClient, asset_id: str, status: int, reason: str
) -> None:
    with pytest.raises(MdesApplicationError) as caught:
        token_connect_client.get_asset(asset_id)
    assert (caught.value.status, caught.value.reason_codes) == (status, (reason,))


def test_an_asset_id_cannot_leave_the_configured_host(token_connect_client: TokenConnectClient) -> None:
    # Percent-encoded into one path segment, it reaches the sandbox (which knows no such resource).
    with pytest.raises(MdesGatewayError) as caught:
        token_connect_client.get_asset("//evil.test/../../x")
    assert (caught.value.status, caught.value.reason_codes) == (404, ("RESOURCE_NOT_FOUND",))
