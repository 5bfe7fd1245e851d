"""The simulated Click to Pay: a pushed receipt brings exactly the data the issuer sent, and only when APPROVED."""

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests

from sandbox.fixtures import CLICK_TO_PAY_TRID
from tests.fixtures.mdes_samples import ELIGIBLE_PAN, ELIGIBLE_PAN_CREDIT, FULL_HOLDER, funding_account, push_payload
from tests.fixtures.mdes_samples import signature_data as signed_values
from tests.fixtures.sandbox_server import SandboxServer

CALLBACK = "https://portal.test/push/return?session=abc"
# What the portal sends Click to Pay when the cardholder has no billing address on file.
HOLDER = {key: value for key, value in FULL_HOLDER.items() if key != "accountHolderAddress"}


def _opened(sandbox: SandboxServer, accounts: list[dict[str, Any]], trid: str = CLICK_TO_PAY_TRID) -> requests.Response:
    """Push the accounts and open the requestor's WEB push URI the guide's way: the JWS alone."""
    values = signed_values(callbackURL=CALLBACK, accountHolderDataSupplied=True)
    body = sandbox.push(push_payload(trid, accounts, signatureData=values)).json()
    uri = next(method["uri"] for method in body["availablePushMethods"] if method["type"] == "WEB")
    page = requests.get(f"{uri}?pushAccountData={quote(body['signature'])}", timeout=5)
    assert page.status_code == 200, page.text
    return page


def _submit(sandbox: SandboxServer, page: requests.Response, **form: str) -> requests.Response:
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert action
    assert session
    data = {"session": session.group(1), **form}
    return requests.post(sandbox.origin + action.group(1), data=data, allow_redirects=False, timeout=5)


def _results(url: str) -> dict[str, str]:
    query = parse_qsl(urlsplit(url).query)
    return {key[len("results[") : -1]: value for key, value in query if key.startswith("results[")}


def _return_link(page: requests.Response) -> str:
    link = re.search(r'id="return-link" href="([^"]+)"', page.text)
    assert link
    return link.group(1).replace("&amp;", "&")


def _deliveries(sandbox: SandboxServer) -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = sandbox.control("GET", "click-to-pay/deliveries").json()["deliveries"]
    return deliveries


def _received(page: requests.Response) -> dict[str, str]:
    """What the page says arrived, by kind."""
    cells = re.findall(r'<dd data-kind="([A-Z_]+)">(.*?)</dd>', page.text, re.S)
    return {kind: re.sub(r"<[^>]+>", "", value).strip() for kind, value in cells}


def test_an_approved_enrolment_receives_exactly_what_the_issuer_sent_and_nothing_stays_behind(
    sandbox: SandboxServer,
) -> None:
    page = _opened(sandbox, [funding_account(holder=HOLDER)])
    (receipt,) = sandbox.receipts()
    # MDES holds the data with the receipt until Click to Pay redeems it.
    assert receipt["account_holder_data_held"] == sorted(HOLDER)
    assert "susan@example.test" not in page.text  # nothing is shown before it is released

    shown = _submit(sandbox, page, action="enrol", tokenization="APPROVED")

    assert shown.status_code == 200
    assert _received(shown) == {
        "NAME": "Susan Example",
        "EMAIL_ADDRESS": "susan@example.test",
        "MOBILE_PHONE_NUMBER": "+1 5555550100",
        "ADDRESS": "Not received",
    }
    (delivery,) = _deliveries(sandbox)
    assert delivery["accountHolderData"] == HOLDER
    assert (delivery["kindsReceived"], delivery["kindsNotReceived"]) == (
        ["NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"],
        ["ADDRESS"],
    )
    assert delivery["profileEmail"] == "susan@example.test"
    (after,) = sandbox.receipts()
    assert (after["account_holder_data_held"], after["result"]) == ([], "APPROVED")
    (token,) = sandbox.tokens()
    assert (token["TokenRequestorId"], token["CurrentStatusCode"], token["AccountPanSuffix"]) == (
        CLICK_TO_PAY_TRID,
        "A",
        "4444",
    )
    back = _return_link(shown)
    assert back.startswith(CALLBACK + "&results%5B")
    assert _results(back) == {receipt["receipt"]: f"APPROVED|{token['TokenUniqueReference']}"}


def test_the_whole_address_is_shown_when_the_issuer_sends_it(sandbox: SandboxServer) -> None:
    shown = _submit(sandbox, _opened(sandbox, [funding_account(holder=FULL_HOLDER)]), action="enrol")
    assert _received(shown)["ADDRESS"] == "1 Demo Street, Springfield, IL, 62701, USA"
    assert _deliveries(sandbox)[0]["kindsNotReceived"] == []


@pytest.mark.parametrize("decision", ["REQUIRE_ADDITIONAL_AUTHENTICATION", "DECLINED"])
def test_without_an_approved_tokenization_no_data_is_released_and_it_is_erased_all_the_same(
    sandbox: SandboxServer, decision: str
) -> None:
    shown = _submit(sandbox, _opened(sandbox, [funding_account(holder=HOLDER)]), action="enrol", tokenization=decision)

    assert set(_received(shown).values()) == {"Not received"}
    (delivery,) = _deliveries(sandbox)
    assert (delivery["accountHolderData"], delivery["profileEmail"]) == (None, None)
    assert sandbox.receipts()[0]["account_holder_data_held"] == []
    assert sandbox.control("GET", "click-to-pay/profiles").json()["profiles"] == []
    (value,) = _results(_return_link(shown)).values()
    assert value.partition("|")[0] == decision
    assert bool(value.partition("|")[2]) is (decision == "REQUIRE_ADDITIONAL_AUTHENTICATION")


def test_cancelling_goes_back_to_the_bank_and_erases_the_data(sandbox: SandboxServer) -> None:
    answer = _submit(sandbox, _opened(sandbox, [funding_account(holder=HOLDER)]), action="cancel")
    assert answer.status_code == 303
    assert set(_results(answer.headers["Location"]).values()) == {"CANCELLED"}
    assert sandbox.receipts()[0]["account_holder_data_held"] == []
    assert sandbox.tokens() == []


def test_the_page_is_used_once_and_the_generic_decision_form_cannot_redeem_it(sandbox: SandboxServer) -> None:
    page = _opened(sandbox, [funding_account(holder=HOLDER)])
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert session
    generic = requests.post(
        f"{sandbox.origin}/tr/{CLICK_TO_PAY_TRID}/decision",
        data={"session": session.group(1), "decision": "APPROVED"},
        timeout=5,
    )
    assert generic.status_code == 409
    assert _submit(sandbox, page, action="enrol").status_code == 200
    again = _submit(sandbox, page, action="enrol")
    assert again.status_code == 409
    assert "already submitted" in again.text


def test_without_an_email_address_there_is_no_profile_and_the_card_is_not_added(sandbox: SandboxServer) -> None:
    sandbox.control(
        "POST",
        "token-requestors",
        {
            "tokenRequestorId": "50100000099",
            "name": "Names-only Click to Pay",
            "tokenRequestorType": "WALLET",
            "supportedAccountHolderData": ["NAME"],
            "tokenRequestorSignatureSupport": True,
            "sandboxExperience": "click_to_pay",
        },
    )
    page = _opened(sandbox, [funding_account(holder={"accountHolderName": "Susan Example"})], trid="50100000099")
    shown = _submit(sandbox, page, action="enrol")
    assert "needs your e-mail address" in shown.text
    assert set(_results(_return_link(shown)).values()) == {"ERROR"}
    assert sandbox.tokens() == []


def _checkout(sandbox: SandboxServer, email: str) -> requests.Response:
    return requests.post(f"{sandbox.origin}/click-to-pay/checkout", data={"email": email}, timeout=5)


def test_the_checkout_lists_the_cards_of_the_profile_an_email_address_opens(sandbox: SandboxServer) -> None:
    _submit(sandbox, _opened(sandbox, [funding_account(holder=HOLDER)]), action="enrol")
    other_case = HOLDER | {"accountHolderEmailAddress": "Susan@Example.test"}
    _submit(sandbox, _opened(sandbox, [funding_account(ELIGIBLE_PAN_CREDIT, holder=other_case)]), action="enrol")

    page = _checkout(sandbox, "SUSAN@example.test")

    assert page.status_code == 200
    cards = re.findall(r'<span class="name">([^<]+)</span>\s*<span class="number">([^<]+)</span>', page.text)
    assert cards == [("Debit Mastercard", "•••• 4444"), ("Mastercard", "•••• 5100")]
    assert "Your cards, Susan Example" in page.text
    assert ELIGIBLE_PAN not in page.text
    assert "has no cards" in _checkout(sandbox, "nobody@example.test").text
    assert requests.get(f"{sandbox.origin}/click-to-pay/checkout", timeout=5).status_code == 200


def test_the_checkout_shows_the_network_s_current_status_of_each_card(sandbox: SandboxServer) -> None:
    _submit(sandbox, _opened(sandbox, [funding_account(holder=HOLDER)]), action="enrol")
    (token,) = sandbox.tokens()
    sandbox.control("POST", f"tokens/{token['TokenUniqueReference']}/wallet", {"action": "suspend"})
    page = _checkout(sandbox, "susan@example.test")
    assert 'data-usable="no"' in page.text
    assert "Suspended by your bank" in page.text
