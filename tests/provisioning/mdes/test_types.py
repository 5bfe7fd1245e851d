"""Answers are tolerant of what Mastercard may add, strict about what must be there, and never leak in repr."""

import pytest

from provisioning.mdes.errors import MdesProtocolError
from provisioning.mdes.types import (
    AccountHolderData,
    EligibleTokenRequestor,
    MediaContent,
    PushedAccount,
    PushFundingAccount,
    SignatureData,
    receipt_hint,
)

TR = {
    "tokenRequestorId": "50123456789",
    "name": "Sunrise Ave. Ltd",
    "consumerFacingEntityName": "Happy Sunrise Online",
    "tokenRequestorType": "MERCHANT",
    "enabledAccountRanges": [5412346789000000000],
}


def test_unknown_fields_and_values_are_tolerated() -> None:
    parsed = EligibleTokenRequestor.from_json(
        {
            **TR,
            "futureField": {"anything": True},
            "supportedAccountHolderData": ["NAME", "SOMETHING_NEW"],
            "availablePushMethods": [{"type": "VISION_OS", "uri": "https://tr.test/push", "extra": 1}],
        }
    )
    assert parsed.supported_account_holder_data == ("NAME", "SOMETHING_NEW")
    assert parsed.available_push_methods[0].type == "VISION_OS"
    assert parsed.enabled_account_ranges == ("5412346789000000000",)


@pytest.mark.parametrize("spelling", ["supportsCardHolderAuthentication", "supportsCardholderAuthentication"])
def test_both_spellings_of_cardholder_authentication(spelling: str) -> None:
    assert EligibleTokenRequestor.from_json({**TR, spelling: True}).supports_cardholder_authentication is True


@pytest.mark.parametrize(
    "change",
    [{"tokenRequestorId": None}, {"name": 5}, {"enabledAccountRanges": ["54-12"]}, {"supportsTokenConnect": "yes"}],
)
def test_missing_or_mistyped_required_fields_are_protocol_errors(change: dict) -> None:
    with pytest.raises(MdesProtocolError):
        EligibleTokenRequestor.from_json({**TR, **change})


def test_media_dimensions_may_be_strings_or_numbers() -> None:
    assert MediaContent.from_json({"type": "image/png", "data": "iVBO", "width": "192", "height": 192}).width == 192
    with pytest.raises(MdesProtocolError):
        MediaContent.from_json({"type": "image/png", "data": "not base64!"})


def test_nothing_sensitive_in_repr() -> None:
    account = PushFundingAccount(
        push_account_id="CA-1",
        card_account_data={"accountNumber": "5555555555554444", "expiryMonth": "12", "expiryYear": "39"},
        account_holder_data=AccountHolderData(name="Susan Example", email_address="susan@example.test"),
    )
    pushed = PushedAccount.from_json(
        {"pushAccountId": "CA-1", "pushAccountReceipt": "MCC-C307F0AE-298E-48EB-AA43-A7C40B32DDDE"}
    )
    text = repr(account) + repr(pushed)
    for secret in ("5555555555554444", "Susan", "susan@", "C307F0AE"):
        assert secret not in text
    assert pushed.receipt_hint == "MCC…DDDE"


def test_signature_data_sends_only_what_is_set_in_spec_order() -> None:
    data = SignatureData(locale="en_US", callback_url="https://portal.test/r", complete_website_activation=False)
    assert list(data.to_json().items()) == [
        ("callbackURL", "https://portal.test/r"),
        ("completeWebsiteActivation", False),
        ("locale", "en_US"),
    ]


@pytest.mark.parametrize(
    ("listed", "start"),
    [
        (5412346789000000000, "5412346789000000000"),
        ("555555555", "5555555550000000000"),  # MDES pads on the right: the range of 555555555…
        (222300004, "2223000040000000000"),
    ],
)
def test_range_starts_are_right_padded_to_19_digits(listed: int | str, start: str) -> None:
    assert EligibleTokenRequestor.from_json({**TR, "enabledAccountRanges": [listed]}).enabled_account_ranges == (start,)


@pytest.mark.parametrize(
    ("receipt", "hint"),
    [
        ("MCC-C307F0AE-298E-48EB-AA43-A7C40B32DDDE", "MCC…DDDE"),
        ("MCC-STL-43233098-64B2-4930-A2D1-3D778894B02B", "MCC…B02B"),
        ("MCC-12345678", "MCC…5678"),  # 12 characters: 7 shown, 5 hidden
        ("MCC-1234567", "MCC…"),  # shorter: the last four would give away too much of it
        ("MCC-1", "MCC…"),
    ],
)
def test_a_receipt_hint_shows_the_prefix_and_at_most_the_last_four(receipt: str, hint: str) -> None:
    assert receipt_hint(receipt) == hint
