"""pushMultipleAccounts: receipts, partial success, the JWS, IIDD, and every input rule of the specification."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from sandbox.fixtures import CLICK_TO_PAY_TRID, DEMOPAY_TRID, NO_PUSH_TRID, SUNDAY_STORE_TRID
from tests.fixtures.mdes_samples import (
    ELIGIBLE_PAN,
    ELIGIBLE_PAN_CREDIT,
    FULL_HOLDER,
    INELIGIBLE_PAN,
    RECEIPT_PATTERN,
    funding_account,
    push_payload,
    signature_data,
    valid_until,
)
from tests.fixtures.openapi import schema_errors
from tests.fixtures.sandbox_server import ELIGIBLE_PATH, SandboxServer

ENVELOPE = frozenset({"$.pushFundingAccounts.encryptedPayload"})


def _request_errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    assert schema_errors(response.json(), "ErrorWrapper") == []
    return [(error["reasonCode"], error["description"]) for error in response.json()["errors"]]


def _account_errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    (account,) = response.json()["pushAccountReceipts"]
    assert "pushAccountReceipt" not in account
    return [(error["reasonCode"], error["description"]) for error in account["errors"]]


def test_one_card_to_a_wallet(sandbox: SandboxServer) -> None:
    payload = push_payload(DEMOPAY_TRID, [funding_account(push_account_id="CA-one")], requestId="push-1")
    assert schema_errors(payload, "PushMultipleAccountsRequestData", skip=ENVELOPE) == []
    assert (
        schema_errors(
            payload["pushFundingAccounts"]["encryptedPayload"]["encryptedData"], "PushMultipleFundingAccounts"
        )
        == []
    )
    response = sandbox.push(payload)
    assert response.status_code == 200
    body = response.json()
    assert schema_errors(body, "PushMultipleAccountsResponseData") == []
    assert body["responseId"] == "push-1"
    (account,) = body["pushAccountReceipts"]
    assert account["pushAccountId"] == "CA-one"
    assert re.fullmatch(RECEIPT_PATTERN, account["pushAccountReceipt"])
    assert account["pushAccountReceipt"].startswith("DMC-")  # the sandbox's product for range 555555555
    assert [m["type"] for m in body["availablePushMethods"]] == ["ANDROID", "IOS", "WEB"]
    assert body["tokenRequestorSignatureSupport"] is False
    assert "signature" not in body
    assert "issuerInitiatedDigitizationData" not in account

    (record,) = sandbox.receipts()
    issued, expires = datetime.fromisoformat(record["issued_at"]), datetime.fromisoformat(record["expires_at"])
    assert expires - issued == timedelta(minutes=15)
    assert record["account_suffix"] == ELIGIBLE_PAN[-4:]
    assert ELIGIBLE_PAN not in json.dumps(sandbox.receipts())


def test_partial_success_and_a_signature_over_the_successful_receipts(sandbox: SandboxServer) -> None:
    accounts = [
        funding_account(ELIGIBLE_PAN, push_account_id="CA-a"),
        funding_account(INELIGIBLE_PAN, push_account_id="CA-b"),
        funding_account(ELIGIBLE_PAN_CREDIT, push_account_id="CA-c"),
    ]
    signed_values = signature_data(completeIssuerAppActivation="TRUE")  # booleans are not case sensitive
    response = sandbox.push(push_payload(SUNDAY_STORE_TRID, accounts, signatureData=signed_values))
    assert response.status_code == 200
    body = response.json()
    assert schema_errors(body, "PushMultipleAccountsResponseData") == []
    results = {account["pushAccountId"]: account for account in body["pushAccountReceipts"]}
    assert results["CA-a"]["pushAccountReceipt"].startswith("DMC-")
    assert results["CA-c"]["pushAccountReceipt"].startswith("MCC-")
    assert results["CA-b"]["errors"][0]["reasonCode"] == "ACCOUNT_INELIGIBLE"
    assert "pushAccountReceipt" not in results["CA-b"]

    public_key = sandbox.keys.jws_public_key.read_bytes()
    header = jwt.get_unverified_header(body["signature"])
    assert header == {"alg": "RS256", "kid": sandbox.keys.jws_kid}
    payload = jwt.decode(body["signature"], public_key, algorithms=["RS256"])
    assert payload == {
        "pushAccountReceipts": [results["CA-a"]["pushAccountReceipt"], results["CA-c"]["pushAccountReceipt"]],
        **signed_values,
        "completeIssuerAppActivation": True,
    }
    assert body["tokenRequestorSignatureSupport"] is True


def test_no_signature_and_no_push_methods_when_every_account_fails(sandbox: SandboxServer) -> None:
    body = sandbox.push(
        push_payload(SUNDAY_STORE_TRID, [funding_account(INELIGIBLE_PAN)], signatureData=signature_data())
    ).json()
    assert "signature" not in body
    assert "availablePushMethods" not in body
    assert body["tokenRequestorSignatureSupport"] is True


def test_issuer_initiated_digitization_data_when_requested_and_supported(sandbox: SandboxServer) -> None:
    body = sandbox.push(
        push_payload(DEMOPAY_TRID, [funding_account()], requestIssuerInitiatedDigitizationData=True)
    ).json()
    (account,) = body["pushAccountReceipts"]
    decoded = json.loads(base64.b64decode(account["issuerInitiatedDigitizationData"]))
    assert decoded == {"fundingAccountInfo": {"pushAccountReceipt": account["pushAccountReceipt"]}}

    unsupported = sandbox.push(
        push_payload(SUNDAY_STORE_TRID, [funding_account()], requestIssuerInitiatedDigitizationData=True)
    ).json()
    assert "issuerInitiatedDigitizationData" not in unsupported["pushAccountReceipts"][0]


@pytest.mark.parametrize("minutes", [5, 15])
def test_the_validity_period_sets_the_receipt_lifetime(sandbox: SandboxServer, minutes: int) -> None:
    sandbox.push(push_payload(DEMOPAY_TRID, [funding_account()], pushAccountReceiptsValidityPeriod=minutes))
    (record,) = sandbox.receipts()
    lifetime = datetime.fromisoformat(record["expires_at"]) - datetime.fromisoformat(record["issued_at"])
    assert lifetime == timedelta(minutes=minutes)


def test_receipt_prefixes_follow_the_product_of_the_range(sandbox: SandboxServer) -> None:
    sandbox.control(
        "POST",
        "token-requestors",
        {"tokenRequestorId": "50100000099", "name": "Maestro Shop", "enabledAccountRanges": ["675964982"]},
    )
    body = sandbox.push(push_payload("50100000099", [funding_account("6759649826438453")])).json()
    assert body["pushAccountReceipts"][0]["pushAccountReceipt"].startswith("MSI-")


def _eligible(sandbox: SandboxServer, trid: str, pan: str) -> bool:
    (account,) = sandbox.push(push_payload(trid, [funding_account(pan)])).json()["pushAccountReceipts"]
    return "pushAccountReceipt" in account


@pytest.mark.parametrize(
    ("pan", "eligible"),
    [
        ("5105105105105100", True),  # in 510510510
        ("5105105115105100", False),  # 510510511: just past the range, though it shares 51051051 with its start
        ("5105105095105100", False),  # 510510509: just before it
    ],
)
def test_a_card_is_in_a_range_when_it_starts_with_the_configured_start(
    sandbox: SandboxServer, pan: str, eligible: bool
) -> None:
    assert _eligible(sandbox, DEMOPAY_TRID, pan) is eligible


def test_a_range_start_ending_in_zeros_covers_only_its_own_range(sandbox: SandboxServer) -> None:
    sandbox.control(
        "POST",
        "token-requestors",
        {"tokenRequestorId": "50100000077", "name": "Range Shop", "enabledAccountRanges": ["510000000"]},
    )
    assert _eligible(sandbox, "50100000077", "5100000001234567")
    assert not _eligible(sandbox, "50100000077", ELIGIBLE_PAN_CREDIT)  # 51051…: no longer covered by "51"
    # MDES still names the range right-padded to 19 digits.
    listed = sandbox.post_json(ELIGIBLE_PATH, {"requestId": "r-1", "accountRanges": ["510000000"]}).json()
    (token_requestor,) = [tr for tr in listed["tokenRequestors"] if tr["tokenRequestorId"] == "50100000077"]
    assert token_requestor["enabledAccountRanges"] == [5100000000000000000]


def test_a_19_digit_range_start_ignores_its_trailing_zeros(sandbox: SandboxServer) -> None:
    # Documented in sandbox/README.md: the padded form no longer tells which zeros are padding.
    sandbox.control(
        "POST",
        "token-requestors",
        {"tokenRequestorId": "50100000066", "name": "Padded Shop", "enabledAccountRanges": [5100000000000000000]},
    )
    assert _eligible(sandbox, "50100000066", ELIGIBLE_PAN_CREDIT)


def test_click_to_pay_requires_the_cardholders_details(sandbox: SandboxServer) -> None:
    without = sandbox.push(push_payload(CLICK_TO_PAY_TRID, [funding_account()]))
    assert {code for code, _ in _account_errors(without)} == {"MISSING_REQUIRED_FIELD"}
    with_details = sandbox.push(push_payload(CLICK_TO_PAY_TRID, [funding_account(holder=FULL_HOLDER)])).json()
    assert "pushAccountReceipt" in with_details["pushAccountReceipts"][0]


# --- request-level input errors --------------------------------------------------------------------------------------
def _push_with(**fields: Any) -> dict[str, Any]:
    return push_payload(
        fields.pop("trid", SUNDAY_STORE_TRID), fields.pop("accounts", None) or [funding_account()], **fields
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_push_with(requestId="r" * 65), ("INVALID_FIELD_LENGTH", "Invalid Field Length - requestId")),
        (_push_with(trid="5010000002"), ("INVALID_FIELD_LENGTH", "Invalid Field Length - tokenRequestorId")),
        (_push_with(trid="5010000002X"), ("INVALID_FIELD_FORMAT", "Invalid Field Format - tokenRequestorId")),
        (_push_with(pushAccountReceiptsValidityPeriod=4), ("INVALID_FIELD_VALUE", "pushAccountReceiptsValidityPeriod")),
        (
            _push_with(pushAccountReceiptsValidityPeriod=16),
            ("INVALID_FIELD_VALUE", "pushAccountReceiptsValidityPeriod"),
        ),
        (
            _push_with(pushAccountReceiptsValidityPeriod="10"),
            ("INVALID_FIELD_FORMAT", "pushAccountReceiptsValidityPeriod"),
        ),
        (
            _push_with(pushAccountReceiptsValidityPeriod=7.5),
            ("INVALID_FIELD_FORMAT", "pushAccountReceiptsValidityPeriod"),
        ),
        (_push_with(requestIssuerInitiatedDigitizationData="yes"), ("INVALID_FIELD_FORMAT", "requestIssuerInitiated")),
        (_push_with(authenticationCode="1" * 33), ("INVALID_FIELD_LENGTH", "authenticationCode")),
        (
            _push_with(signatureData=signature_data(callbackURL="https://portal.test/" + "x" * 237)),
            ("INVALID_FIELD_LENGTH", "signatureData.callbackURL"),
        ),
        (_push_with(signatureData=signature_data(callbackURL="no scheme")), ("INVALID_FIELD_FORMAT", "callbackURL")),
        (_push_with(signatureData=signature_data(locale="en-US")), ("INVALID_FIELD_FORMAT", "signatureData.locale")),
        (_push_with(signatureData=signature_data(locale="english")), ("INVALID_FIELD_LENGTH", "signatureData.locale")),
        (
            _push_with(signatureData=signature_data(completeWebsiteActivation="yes")),
            ("INVALID_FIELD_FORMAT", "signatureData.completeWebsiteActivation"),
        ),
        (
            _push_with(signatureData=signature_data(tokenRequestorSessionId="ab")),
            ("INVALID_FIELD_LENGTH", "signatureData.tokenRequestorSessionId"),
        ),
        (
            _push_with(trid=DEMOPAY_TRID, accounts=[funding_account(), funding_account()]),
            ("INVALID_FIELD_VALUE", "at most 1 account"),
        ),
        (_push_with(accounts=[funding_account() for _ in range(6)]), ("INVALID_FIELD_VALUE", "at most 5 account")),
        (
            _push_with(accounts=[funding_account(push_account_id="C" * 37)]),
            ("INVALID_FIELD_LENGTH", "encryptedData[0].pushAccountId"),
        ),
        (
            _push_with(accounts=[funding_account(push_account_id="CA-1"), funding_account(push_account_id="CA-1")]),
            ("INVALID_FIELD_VALUE", "must be unique"),
        ),
        (_push_with(trid="50199999999"), ("INVALID_FIELD_VALUE", "unknown token requestor")),
        (_push_with(trid=NO_PUSH_TRID), ("INVALID_FIELD_VALUE", "not a Token Connect token requestor")),
    ],
)
def test_request_level_input_errors(sandbox: SandboxServer, payload: dict, expected: tuple[str, str]) -> None:
    (error,) = _request_errors(sandbox.push(payload))
    assert error[0] == expected[0]
    assert expected[1] in error[1]


def test_exactly_five_accounts_are_accepted(sandbox: SandboxServer) -> None:
    body = sandbox.push(_push_with(accounts=[funding_account() for _ in range(5)])).json()
    assert len([a for a in body["pushAccountReceipts"] if "pushAccountReceipt" in a]) == 5


def test_envelope_errors(sandbox: SandboxServer) -> None:
    bad_shape = _push_with()
    bad_shape["pushFundingAccounts"] = {"encryptedPayload": {"encryptedData": "zz", "publicKeyFingerprint": "12"}}
    errors = dict(_request_errors(sandbox.post_json("/mdes/connect/1/0/pushMultipleAccounts", bad_shape)))
    assert "INVALID_FIELD_FORMAT" in errors
    assert "MISSING_REQUIRED_FIELD" in errors

    missing = _push_with()
    del missing["pushFundingAccounts"]
    assert _request_errors(sandbox.post_json("/mdes/connect/1/0/pushMultipleAccounts", missing)) == [
        ("MISSING_REQUIRED_FIELD", "Missing Required Field - pushFundingAccounts")
    ]


# --- per-account input errors (the request still answers 200) -------------------------------------------------
def _account(**fields: Any) -> dict[str, Any]:
    account = funding_account()
    account["fundingAccountData"].update(fields)
    return account


def _card(**fields: Any) -> dict[str, Any]:
    account = funding_account()
    account["fundingAccountData"]["cardAccountData"].update(fields)
    return account


_PAST = (datetime.now(UTC) - timedelta(days=40)).strftime("%y")


@pytest.mark.parametrize(
    "case",
    [
        (_account(dataValidUntilTimestamp="2030-01-01T00:00:00"), ("INVALID_FIELD_LENGTH", "dataValidUntilTimestamp")),
        (_account(dataValidUntilTimestamp="2030-01-01 00:00:00.000Z"), ("INVALID_FIELD_FORMAT", "dataValidUntil")),
        (_account(dataValidUntilTimestamp="2030-13-01T00:00:00.000Z"), ("INVALID_FIELD_FORMAT", "dataValidUntil")),
        (
            _account(dataValidUntilTimestamp=valid_until(-timedelta(seconds=5))),
            ("INVALID_FIELD_VALUE", "no longer valid"),
        ),
        (_account(dataValidUntilTimestamp=valid_until(timedelta(days=31))), ("INVALID_FIELD_VALUE", "30 days")),
        (_card(accountNumber="55555555"), ("INVALID_FIELD_LENGTH", "cardAccountData.accountNumber")),
        (_card(accountNumber="5555 5555 5555 4444"), ("INVALID_FIELD_FORMAT", "cardAccountData.accountNumber")),
        (_card(expiryMonth="13"), ("INVALID_FIELD_FORMAT", "cardAccountData.expiryMonth")),
        (_card(expiryYear="2039"), ("INVALID_FIELD_LENGTH", "cardAccountData.expiryYear")),
        (_card(expiryMonth="01", expiryYear=_PAST), ("INVALID_FIELD_VALUE", "expired")),
        (
            _account(cardAccountData={"accountNumber": ELIGIBLE_PAN, "expiryMonth": "12"}),
            ("MISSING_REQUIRED_FIELD", "expiryYear"),
        ),
        (_account(cardAccountData=None), ("MISSING_REQUIRED_FIELD", "cardAccountData")),
        (_account(accountHolderData={"accountHolderName": "N" * 28}), ("INVALID_FIELD_LENGTH", "accountHolderName")),
        (
            _account(accountHolderData={"accountHolderAddress": {"country": "US"}}),
            ("INVALID_FIELD_LENGTH", "country"),
            DEMOPAY_TRID,
        ),
        (
            _account(accountHolderData={"accountHolderEmailAddress": "a@b.c"}),
            ("INVALID_FIELD_LENGTH", "accountHolderEmailAddress"),
            DEMOPAY_TRID,
        ),
        (
            _account(
                accountHolderData={"accountHolderMobilePhoneNumber": {"countryDialInCode": "1", "phoneNumber": "55 5"}}
            ),
            ("INVALID_FIELD_FORMAT", "phoneNumber"),
            DEMOPAY_TRID,
        ),
        (
            _account(accountHolderData={"accountHolderMobilePhoneNumber": {"phoneNumber": "5555550100"}}),
            ("MISSING_REQUIRED_FIELD", "countryDialInCode"),
            DEMOPAY_TRID,
        ),
        # Sunday Store accepts only NAME.
        (
            _account(accountHolderData={"accountHolderEmailAddress": "susan@example.test"}),
            ("INVALID_FIELD_VALUE", "does not accept"),
        ),
        (_card(accountNumber=INELIGIBLE_PAN), ("ACCOUNT_INELIGIBLE", "no account range")),
        (
            _account(
                cardAccountData=None,
                financialAccountData={
                    "financialAccountId": "123456789012",
                    "interbankCardAssociationId": "1234",
                    "countryCode": "USA",
                },
            ),
            ("ACCOUNT_INELIGIBLE", "no account range"),
        ),
    ],
)
def test_per_account_input_errors(sandbox: SandboxServer, case: tuple) -> None:
    account, expected, trid = case if len(case) == 3 else (*case, SUNDAY_STORE_TRID)
    if account["fundingAccountData"].get("cardAccountData") is None:
        account["fundingAccountData"].pop("cardAccountData")
    errors = _account_errors(sandbox.push(push_payload(trid, [account])))
    assert len(errors) == 1, errors
    assert errors[0][0] == expected[0]
    assert expected[1] in errors[0][1]


@pytest.mark.parametrize(
    "timestamp", [valid_until(timedelta(minutes=30)).replace(".", ".1", 1)[:23] + "Z", "2099-01-01T00:00:00+01:00"]
)
def test_timestamp_variants_of_the_format(sandbox: SandboxServer, timestamp: str) -> None:
    account = _account(dataValidUntilTimestamp=timestamp)
    errors = sandbox.push(push_payload(SUNDAY_STORE_TRID, [account])).json()["pushAccountReceipts"][0].get("errors", [])
    # Both are well-formed; the far future one is refused only for being more than 30 days ahead.
    assert [e["reasonCode"] for e in errors] in ([], ["INVALID_FIELD_VALUE"])
    assert all("30 days" in e["description"] for e in errors)
