"""Logs carry method, path, status, latency and requestId, never card data, full receipts or keys (G5, I3);
the client publishes nothing to Celery (G7)."""

import logging

import pytest

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesApplicationError
from provisioning.mdes.types import AccountHolderData, PhoneNumber, SignatureData
from sandbox.fixtures import CLICK_TO_PAY_TRID, SUNDAY_STORE_TRID
from tests.fixtures.mdes_samples import ELIGIBLE_PAN, INELIGIBLE_PAN
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.mdes.conftest import funding


def test_a_push_logs_what_operators_need_and_nothing_secret(
    token_connect_client: TokenConnectClient,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    published: list[object],
) -> None:
    caplog.set_level(logging.DEBUG, logger="provisioning")
    holder = AccountHolderData(
        name="Susan Example",
        email_address="susan@example.test",
        mobile_phone_number=PhoneNumber(country_dial_in_code="1", phone_number="5555550100"),
    )
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=CLICK_TO_PAY_TRID,
        funding_accounts=[funding(ELIGIBLE_PAN, "CA-1", account_holder_data=holder), funding(INELIGIBLE_PAN, "CA-2")],
        signature_data=SignatureData(callback_url="https://portal.test/r", locale="en_US"),
        request_id="log-1",
    )
    with pytest.raises(MdesApplicationError):
        token_connect_client.get_eligible_token_requestors(["1"])

    records = [r for r in caplog.records if r.name.startswith("provisioning")]
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in records)
    call = next(r for r in records if getattr(r, "mdes_path", "") == "/connect/1/0/pushMultipleAccounts")
    fields = vars(call)
    assert (fields["mdes_method"], fields["mdes_status"], fields["mdes_request_id"]) == ("POST", 200, "log-1")
    assert isinstance(fields["latency_ms"], int)
    assert any(getattr(r, "mdes_status", None) == 400 for r in records)

    receipt = result.receipts[0]
    assert str(result.accounts[0].receipt_hint) in text
    secrets = [ELIGIBLE_PAN, INELIGIBLE_PAN, receipt, "Susan", "susan@example.test", "5555550100"]
    secrets += [sandbox.keys.client_signing_p12_password]
    secrets += [sandbox.keys.encryption_private_key.read_text().splitlines()[1], "oauth_signature"]
    for secret in secrets:
        assert secret not in text
    assert published == []  # the client never queues anything: card data cannot reach the broker through it


def test_errors_do_not_carry_card_data(token_connect_client: TokenConnectClient) -> None:
    with pytest.raises(MdesApplicationError) as caught:
        token_connect_client.push_multiple_accounts(
            token_requestor_id="50199999999", funding_accounts=[funding(ELIGIBLE_PAN)]
        )
    assert ELIGIBLE_PAN not in str(caught.value)
    assert ELIGIBLE_PAN not in repr(caught.value.errors)
    assert caught.value.__cause__ is None


def test_the_werkzeug_access_log_of_the_sandbox_has_no_query_strings(
    token_connect_client: TokenConnectClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    token_connect_client.push_multiple_accounts(token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()])
    assert all("?" not in r.getMessage() for r in caplog.records if r.name == "werkzeug")
