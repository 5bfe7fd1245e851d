"""What a refresh stores of one requestor: every value MDES sent fits its column, URL or enumeration, or is left out.

The sandbox cannot send some of these (it checks range starts and account holder data kinds itself), so the
typed answer is built here; test_refresh.py drives the same checks over the wire.
"""

import dataclasses
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioning.mdes.types import EligibleTokenRequestor, PushMethod
from provisioning.requestor_checks import RequestorSkippedError, token_requestor_checked

REQUESTOR = EligibleTokenRequestor(
    token_requestor_id="50123456789",
    name="Sunrise Ave. Ltd",
    consumer_facing_entity_name="Happy Sunrise Online",
    token_requestor_type="MERCHANT",
    enabled_account_ranges=("5412346789000000000",),
    supported_push_methods=("WEB",),
    available_push_methods=(PushMethod("WEB", "https://sunrise.example/push"),),
)
LIMITS = {"name": 64, "consumer_facing_name": 100}
MDES_NAMES = {"name": "name", "consumer_facing_name": "consumerFacingEntityName"}


@given(name=st.text(max_size=200), consumer_facing_name=st.text(max_size=200))
def test_any_name_is_stored_within_its_column_and_printable_or_the_requestor_is_skipped(
    name: str, consumer_facing_name: str
) -> None:
    item = dataclasses.replace(REQUESTOR, name=name, consumer_facing_entity_name=consumer_facing_name)
    try:
        checked = token_requestor_checked(item)
    except RequestorSkippedError:
        return
    for field, sent in (("name", name), ("consumer_facing_name", consumer_facing_name)):
        stored = checked.values[field]
        assert 0 < len(stored) <= LIMITS[field]
        assert not any(unicodedata.category(char) in ("Cc", "Cs") for char in stored)
        cut = len(sent.strip()) > LIMITS[field]
        assert stored == (sent.strip()[: LIMITS[field] - 1] + "…" if cut else sent.strip())
        assert cut == any(f": {MDES_NAMES[field]} cut to" in warning for warning in checked.warnings)


@pytest.mark.parametrize(
    "name",
    ["Odd\x00Wallet", "Odd\nWallet", "Odd\ud800Wallet", "Pay\u202eLLAW", "\u2066Pay", "", " \t "],
)
def test_a_name_with_control_or_bidirectional_characters_or_none_skips_the_requestor(name: str) -> None:
    with pytest.raises(RequestorSkippedError, match="50123456789 skipped: its name"):
        token_requestor_checked(dataclasses.replace(REQUESTOR, name=name))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"token_requestor_id": "5012345678"}, "tokenRequestorId is not 11 digits"),
        ({"token_requestor_id": "5012345678\u0669"}, "tokenRequestorId is not 11 digits"),
        ({"token_requestor_type": "SUBSCRIPTION_SERVICE_PROVIDER"}, "is not WALLET or MERCHANT"),
        ({"token_requestor_type": "wallet"}, "is not WALLET or MERCHANT"),
    ],
)
def test_a_requestor_without_a_usable_id_or_type_is_skipped(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(RequestorSkippedError, match=reason):
        token_requestor_checked(dataclasses.replace(REQUESTOR, **change))


def test_values_that_fit_no_column_url_or_enumeration_are_left_out_with_a_warning_each() -> None:
    item = dataclasses.replace(
        REQUESTOR,
        # Too long, and Arabic-Indic digits (isdigit(), but not what the column takes).
        enabled_account_ranges=("5412346789000000000", "5" * 25, "\u0665" * 19),
        supported_account_holder_data=("NAME", "SHOE_SIZE", "name", "X" * 40, "NAME"),
        available_push_methods=(
            PushMethod("WEB", "https://sunrise.example/push"),
            PushMethod("WEB", "https://second.example/push"),
            PushMethod("web\n", "https://sunrise.example/push"),
            PushMethod("IOS", "https://sunrise.example/" + "i" * 120),
        ),
        wallet_id="1234",
        image_asset_id="../../admin/x",
    )

    checked = token_requestor_checked(item)

    assert checked.ranges == {"5412346789000000000"}
    assert checked.values["supported_account_holder_data"] == ["NAME", "SHOE_SIZE"]  # new kinds are tolerated
    assert checked.values["push_methods"] == [{"type": "WEB", "uri": "https://sunrise.example/push"}]
    assert (checked.values["wallet_id"], checked.values["image_asset_id"]) == ("", "")
    assert len(checked.warnings) == 7
    assert all(warning.startswith("token requestor 50123456789: ") for warning in checked.warnings)


def test_a_well_formed_requestor_is_stored_as_sent_without_warnings() -> None:
    checked = token_requestor_checked(
        dataclasses.replace(REQUESTOR, wallet_id="216", image_asset_id="20210927091340-MDES-token-connect-mtf")
    )
    assert checked.warnings == ()
    assert checked.values["name"] == "Sunrise Ave. Ltd"
    assert checked.values["wallet_id"] == "216"
    assert checked.values["image_asset_id"] == "20210927091340-MDES-token-connect-mtf"
