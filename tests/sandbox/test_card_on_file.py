"""The simulated Secure Card on File merchant: it saves the card from the receipt and may check it with a code."""

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests

from sandbox.fixtures import CARD_ON_FILE_TRID
from tests.fixtures.mdes_samples import funding_account, push_payload
from tests.fixtures.mdes_samples import signature_data as signed_values
from tests.fixtures.sandbox_server import SandboxServer

CALLBACK = "https://portal.test/push/return?session=abc"


def _opened(sandbox: SandboxServer, holder: dict[str, Any] | None = None) -> requests.Response:
    values = signed_values(callbackURL=CALLBACK)
    body = sandbox.push(push_payload(CARD_ON_FILE_TRID, [funding_account(holder=holder)], signatureData=values)).json()
    (method,) = body["availablePushMethods"]
    page = requests.get(f"{method['uri']}?pushAccountData={quote(body['signature'])}", timeout=5)
    assert page.status_code == 200, page.text
    return page


def _post(sandbox: SandboxServer, page: requests.Response, **form: str) -> requests.Response:
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, page.text
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    data = ({"session": session.group(1)} if session else {}) | form
    return requests.post(sandbox.origin + action.group(1), data=data, allow_redirects=False, timeout=5)


def _saved(sandbox: SandboxServer, **form: str) -> requests.Response:
    """Save the card asking for the check: the merchant's code page."""
    answer = _post(sandbox, _opened(sandbox), action="save", authentication="code", **form)
    assert answer.status_code == 303
    page = requests.get(sandbox.origin + answer.headers["Location"], timeout=5)
    assert page.status_code == 200
    return page


def _result(answer: requests.Response) -> tuple[str, str]:
    """(result, token unique reference) of the callback the merchant sends the browser to."""
    assert answer.status_code == 303, answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "&results%5B")
    (value,) = [v for k, v in parse_qsl(urlsplit(location).query) if k.startswith("results[")]
    result, _, reference = value.partition("|")
    return result, reference


def _code(sandbox: SandboxServer) -> str:
    messages = requests.get(f"{sandbox.origin}/inbox/messages.json", params={"to": "Card ending 4444"}, timeout=5)
    found = re.search(r"\b(\d{6})\b", messages.json()["messages"][0]["body"])
    assert found
    return found.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _token(sandbox: SandboxServer) -> dict[str, Any]:
    (token,) = sandbox.tokens()
    return token


def test_without_a_check_the_card_is_saved_and_approved(sandbox: SandboxServer) -> None:
    answer = _post(sandbox, _opened(sandbox), action="save", authentication="none", account="susan@example.test")

    result, reference = _result(answer)
    assert result == "APPROVED"
    token = _token(sandbox)
    assert (token["TokenUniqueReference"], token["TokenType"], token["CurrentStatusCode"]) == (reference, "F", "A")
    (enrolment,) = sandbox.control("GET", "card-on-file/enrolments").json()["enrolments"]
    assert (enrolment["account"], enrolment["authentication"], enrolment["result"]) == (
        "susan@example.test",
        "none",
        "APPROVED",
    )


def test_the_account_is_the_email_address_released_when_the_person_does_not_sign_in(sandbox: SandboxServer) -> None:
    holder = {"accountHolderName": "Susan Example", "accountHolderEmailAddress": "susan@example.test"}
    _post(sandbox, _opened(sandbox, holder), action="save", authentication="none")
    (enrolment,) = sandbox.control("GET", "card-on-file/enrolments").json()["enrolments"]
    assert enrolment["account"] == "susan@example.test"
    assert sandbox.receipts()[0]["account_holder_data_held"] == []


def test_the_right_code_from_the_inbox_authenticates_the_saved_card(sandbox: SandboxServer) -> None:
    page = _saved(sandbox)
    assert "Confirm your card" in page.text
    assert _token(sandbox)["CurrentStatusCode"] == "A"  # the merchant holds an active token while it checks
    code = _code(sandbox)

    wrong = _post(sandbox, page, action="confirm", code=_wrong(code))
    assert wrong.status_code == 303
    assert "That code is not right" in requests.get(sandbox.origin + wrong.headers["Location"], timeout=5).text

    result, reference = _result(_post(sandbox, page, action="confirm", code=code))
    assert result == "AUTHENTICATED"
    assert (_token(sandbox)["TokenUniqueReference"], _token(sandbox)["CurrentStatusCode"]) == (reference, "A")
    assert sandbox.receipts()[0]["result"] == "AUTHENTICATED"


@pytest.mark.parametrize("ending", ["three wrong codes", "cancel", "expire", "fifteen minutes pass"])
def test_a_check_that_does_not_complete_deletes_the_token(sandbox: SandboxServer, ending: str) -> None:
    page = _saved(sandbox)
    code = _code(sandbox)
    if ending == "three wrong codes":
        for _ in range(2):
            assert _post(sandbox, page, action="confirm", code=_wrong(code)).status_code == 303
        answer = _post(sandbox, page, action="confirm", code=_wrong(code))
    elif ending == "fifteen minutes pass":
        sandbox.shift_clock(15 * 60 + 1)
        answer = _post(sandbox, page, action="confirm", code=code)
    else:
        answer = _post(sandbox, page, action=ending)

    result, reference = _result(answer)
    assert result == "DELETED"
    token = _token(sandbox)
    assert (token["TokenUniqueReference"], token["CurrentStatusCode"]) == (reference, "D")
    assert token["History"][-1]["Initiator"] == "W"  # the merchant deleted it
    assert requests.get(sandbox.origin + urlsplit(page.url).path, timeout=5).status_code == 404  # nothing left to do


def test_cancelling_before_saving_returns_cancelled_and_makes_no_token(sandbox: SandboxServer) -> None:
    answer = _post(sandbox, _opened(sandbox), action="cancel", authentication="none")
    assert _result(answer) == ("CANCELLED", "")
    assert sandbox.tokens() == []
    assert sandbox.receipts()[0]["result"] == "CANCELLED"


def test_the_page_can_be_submitted_once(sandbox: SandboxServer) -> None:
    page = _opened(sandbox)
    assert _post(sandbox, page, action="save", authentication="none").status_code == 303
    again = _post(sandbox, page, action="save", authentication="none")
    assert again.status_code == 409
    assert "already submitted" in again.text
