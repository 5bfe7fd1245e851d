"""What a person does on the sandbox's simulated wallet page, driven over HTTP (no browser)."""

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from django.test import Client

DEMOPAY = "50100000011"
ALICE_NUMBER = "5555 5555 5555 4444"  # tests/fixtures/issuer_services.py: alice_card


def wallet_decides(redirect_url: str, decision: str) -> str:
    """Open the token requestor page MDES pointed at, answer it; returns where the wallet sends the person back."""
    page = requests.get(redirect_url, timeout=5)
    assert page.status_code == 200, page.text
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert session
    action = urlsplit(redirect_url)._replace(path=urlsplit(redirect_url).path.rsplit("/", 1)[0] + "/decision", query="")
    answer = requests.post(
        action.geturl(), data={"session": session.group(1), "decision": decision}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"]


def click_to_pay_enrols(redirect_url: str) -> str:
    """Open the sandbox's Click to Pay page MDES pointed at and add the card (the network approving it); returns
    where Click to Pay's "Continue to your bank" link sends the person back."""
    page = requests.get(redirect_url, timeout=5)
    assert page.status_code == 200, page.text
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert session
    origin = urlsplit(redirect_url)._replace(path="/click-to-pay/enrol", query="")
    received = requests.post(
        origin.geturl(), data={"session": session.group(1), "action": "enrol", "tokenization": "APPROVED"}, timeout=5
    )
    assert received.status_code == 200, received.text
    back = re.search(r'id="return-link" href="([^"]+)"', received.text)
    assert back
    return html.unescape(back.group(1))


def pushed_and_decided(portal: Client, card: Any, decision: str, trid: str = DEMOPAY) -> str:
    """The signed-in cardholder pushes `card` to the requestor, whose wallet page answers `decision`; returns the
    callback URL the wallet sends the browser back to (not yet opened)."""
    from provisioning.models import TokenRequestor

    requestor = TokenRequestor.objects.get(trid=trid)
    response = portal.post(
        "/push/", {"card": [card.public_id], "token_requestor": requestor.pk, "idempotency_key": "form-1"}
    )
    assert response.status_code == 302, response.content
    return wallet_decides(response["Location"], decision)


def callback_opened(portal: Client, callback: str) -> Any:
    """The browser back at the portal's callback URL."""
    parts = urlsplit(callback)
    return portal.get(parts.path, dict(parse_qsl(parts.query)))


# --- a card typed into the sandbox wallet by hand (manual provisioning) ----------------------------------------
def card_typed_in(sandbox: Any, number: str = ALICE_NUMBER, **fields: str) -> requests.Response:
    """A person types a card into the sandbox's DemoPay (on an Android phone); `fields` change the form."""
    form = {
        "number": number,
        "month": "12",
        "year": "30",
        "security_code": "123",
        "device": "android",
        "code_mode": "issuer",
        "recommendation": "",
        "device_score": "",
        "account_score": "",
    } | fields
    return requests.post(f"{sandbox.origin}/wallet/{DEMOPAY}/add-card", data=form, timeout=20)


def wallet_form_post(sandbox: Any, page: requests.Response, action: str, **fields: str) -> requests.Response:
    """Send the wallet page's form whose action ends in `action` (method, code, resend, check)."""
    found = re.search(rf'action="(/wallet/enrolments/[^/"]+/{action})"', page.text)
    assert found, page.text
    return requests.post(f"{sandbox.origin}{found.group(1)}", data=fields, timeout=20)


def wallet_method_index(page: requests.Response, label: str) -> str:
    found = re.search(rf'value="(\d+)"[^>]*>\s*<label for="method-\d+">{label}', page.text)
    assert found, page.text
    return found.group(1)
