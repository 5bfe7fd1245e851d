"""pushMultipleAccounts through the real client: receipts, per-account outcomes, the JWS, and MDES's refusals."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesApplicationError
from provisioning.mdes.types import AccountHolderData, BillingAddress, PhoneNumber, PushFundingAccount, SignatureData
from sandbox.fixtures import CLICK_TO_PAY_TRID, DEMOPAY_TRID, NO_PUSH_TRID, SUNDAY_STORE_TRID
from tests.fixtures.mdes_samples import ELIGIBLE_PAN, ELIGIBLE_PAN_CREDIT, INELIGIBLE_PAN, RECEIPT_PATTERN
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.mdes.conftest import card, funding

SIGNED = SignatureData(
    callback_url="https://portal.test/push/return?push=7",
    complete_issuer_app_activation=False,
    complete_website_activation=False,
    account_holder_data_supplied=True,
    locale="en_US",
)
HOLDER = AccountHolderData(
    name="Susan Example",
    address=BillingAddress(line1="1 Demo Street", city="Springfield", postal_code="62701", country="USA"),
    email_address="susan@example.test",
    mobile_phone_number=PhoneNumber(country_dial_in_code="1", phone_number="5555550100"),
)


def test_one_card_to_a_wallet(token_connect_client: TokenConnectClient, sandbox: SandboxServer) -> None:
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=DEMOPAY_TRID, funding_accounts=[funding(push_account_id="CA-w")], request_id="push-w"
    )
    (account,) = result.accounts
    assert account.succeeded
    assert account.receipt is not None
    assert re.fullmatch(RECEIPT_PATTERN, account.receipt)
    assert account.receipt_hint == f"{account.receipt[:3]}…{account.receipt[-4:]}"
    assert (result.request_id, result.response_id) == ("push-w", "push-w")
    assert result.push_method("WEB") is not None
    assert result.token_requestor_signature_support is False
    assert result.signature is None
    assert result.receipts == (account.receipt,)
    assert account.receipt not in repr(result)
    (record,) = sandbox.receipts()
    assert record["receipt"] == account.receipt


def test_partial_success_is_reported_per_account(token_connect_client: TokenConnectClient) -> None:
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=SUNDAY_STORE_TRID,
        funding_accounts=[
            funding(ELIGIBLE_PAN, "CA-a"),
            funding(INELIGIBLE_PAN, "CA-b"),
            funding(ELIGIBLE_PAN_CREDIT, "CA-c"),
        ],
        signature_data=SIGNED,
    )
    assert [a.push_account_id for a in result.accounts] == ["CA-a", "CA-b", "CA-c"]
    assert [a.push_account_id for a in result.succeeded] == ["CA-a", "CA-c"]
    (refused,) = result.failed
    assert refused.receipt is None
    assert [(e.source, e.reason_code) for e in refused.errors] == [("MDES", "ACCOUNT_INELIGIBLE")]
    assert str(result.account("CA-c").receipt).startswith("MCC-")


def test_the_signature_verifies_with_the_public_key_alone_and_echoes_the_request(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer
) -> None:
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=SUNDAY_STORE_TRID,
        funding_accounts=[funding(ELIGIBLE_PAN, "CA-1"), funding(ELIGIBLE_PAN_CREDIT, "CA-2")],
        signature_data=SIGNED,
    )
    assert result.token_requestor_signature_support is True
    assert result.signature is not None
    public_key = sandbox.keys.jws_public_key.read_bytes()  # nothing else: no private key, no sandbox code
    assert jwt.get_unverified_header(result.signature)["kid"] == sandbox.keys.jws_kid
    payload = jwt.decode(result.signature, public_key, algorithms=["RS256"])
    assert payload == {"pushAccountReceipts": list(result.receipts), **SIGNED.to_json()}
    assert payload == result.signed_payload


def test_issuer_initiated_digitization_data(token_connect_client: TokenConnectClient) -> None:
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=DEMOPAY_TRID, funding_accounts=[funding()], request_issuer_initiated_digitization_data=True
    )
    (account,) = result.accounts
    assert account.issuer_initiated_digitization_data is not None
    decoded = json.loads(base64.b64decode(account.issuer_initiated_digitization_data))
    assert decoded["fundingAccountInfo"]["pushAccountReceipt"] == account.receipt


def test_account_holder_data_for_click_to_pay(token_connect_client: TokenConnectClient) -> None:
    refused = token_connect_client.push_multiple_accounts(
        token_requestor_id=CLICK_TO_PAY_TRID, funding_accounts=[funding()]
    )
    assert {e.reason_code for e in refused.accounts[0].errors} == {"MISSING_REQUIRED_FIELD"}
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=CLICK_TO_PAY_TRID,
        funding_accounts=[funding(account_holder_data=HOLDER)],
        signature_data=SIGNED,
    )
    assert result.accounts[0].succeeded
    assert HOLDER.kinds == {"NAME", "ADDRESS", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"}
    assert "Susan" not in repr(HOLDER)


def test_the_validity_period_is_sent(token_connect_client: TokenConnectClient, sandbox: SandboxServer) -> None:
    token_connect_client.push_multiple_accounts(
        token_requestor_id=DEMOPAY_TRID, funding_accounts=[funding()], receipts_validity_minutes=5
    )
    (record,) = sandbox.receipts()
    lifetime = datetime.fromisoformat(record["expires_at"]) - datetime.fromisoformat(record["issued_at"])
    assert lifetime == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"request_id": "r" * 65}, "INVALID_FIELD_LENGTH"),
        ({"token_requestor_id": "5010000002"}, "INVALID_FIELD_LENGTH"),
        ({"token_requestor_id": "50199999999"}, "INVALID_FIELD_VALUE"),
        ({"token_requestor_id": NO_PUSH_TRID}, "INVALID_FIELD_VALUE"),
        ({"receipts_validity_minutes": 4}, "INVALID_FIELD_VALUE"),
        ({"receipts_validity_minutes": 16}, "INVALID_FIELD_VALUE"),
        ({"authentication_code": "1" * 33}, "INVALID_FIELD_LENGTH"),
        ({"signature_data": SignatureData(locale="en-US")}, "INVALID_FIELD_FORMAT"),
        ({"signature_data": SignatureData(callback_url="https://portal.test/" + "x" * 240)}, "INVALID_FIELD_LENGTH"),
        ({"funding_accounts": [funding(push_account_id="C" * 37)]}, "INVALID_FIELD_LENGTH"),
        (
            {"funding_accounts": [funding(push_account_id="CA-1"), funding(push_account_id="CA-1")]},
            "INVALID_FIELD_VALUE",
        ),
        ({"funding_accounts": [funding(push_account_id=f"CA-{n}") for n in range(6)]}, "INVALID_FIELD_VALUE"),
        (
            {
                "token_requestor_id": DEMOPAY_TRID,
                "funding_accounts": [funding(push_account_id="A"), funding(push_account_id="B")],
            },
            "INVALID_FIELD_VALUE",
        ),
    ],
)
def test_request_level_refusals_raise(token_connect_client: TokenConnectClient, arguments: dict, reason: str) -> None:
    call = {"token_requestor_id": SUNDAY_STORE_TRID, "funding_accounts": [funding()], **arguments}
    with pytest.raises(MdesApplicationError) as caught:
        token_connect_client.push_multiple_accounts(**call)
    assert caught.value.reason_codes == (reason,)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (funding(data_valid_until=datetime.now(UTC) - timedelta(seconds=1)), "INVALID_FIELD_VALUE"),
        (funding(data_valid_until=datetime.now(UTC) + timedelta(days=31)), "INVALID_FIELD_VALUE"),
        (PushFundingAccount("CA-1", card(month="13")), "INVALID_FIELD_FORMAT"),
        (PushFundingAccount("CA-1", card(month="01", year="20")), "INVALID_FIELD_VALUE"),
        (PushFundingAccount("CA-1", card(pan="55555555")), "INVALID_FIELD_LENGTH"),
        (funding(account_holder_data=AccountHolderData(email_address="susan@example.test")), "INVALID_FIELD_VALUE"),
        (funding(account_holder_data=AccountHolderData(name="N" * 28)), "INVALID_FIELD_LENGTH"),
        (funding(INELIGIBLE_PAN), "ACCOUNT_INELIGIBLE"),
    ],
)
def test_per_account_refusals_come_back_in_the_result(
    token_connect_client: TokenConnectClient, account, reason: str
) -> None:
    result = token_connect_client.push_multiple_accounts(
        token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[account, funding(ELIGIBLE_PAN_CREDIT, "CA-ok")]
    )
    refused = result.account(account.push_account_id)
    assert [e.reason_code for e in refused.errors] == [reason]
    assert result.account("CA-ok").succeeded
