"""A push to a merchant that saves cards on file and checks them afterwards (post-tokenization authentication): the
sandbox's Veg Box Club answers AUTHENTICATED or DELETED, and the cardholder reads what that means.

The portal runs under Django's test client (and, where the sandbox's MDES calls the issuer's services, as the live
server); MDES and the merchant's pages are the real sandbox over HTTP.
"""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core import mail
from django.test import Client
from django.urls import reverse

from cardholders.models import Card
from issuer_services.models import TokenizationRequest
from provisioning.models import CardToken, NetworkCheck, PushReceipt, TokenRequestor
from sandbox.fixtures import CARD_ON_FILE_TRID
from tests.fixtures.issuer_services import PREFIX
from tests.fixtures.sandbox_server import SandboxServer

MERCHANT = "Veg Box Club"


def _merchant_page(portal: Client, card: Card) -> requests.Response:
    """The cardholder pushes the card to the merchant and lands on its page."""
    requestor = TokenRequestor.objects.get(trid=CARD_ON_FILE_TRID)
    response = portal.post(
        reverse("provisioning:push_start"),
        {"card": [card.public_id], "token_requestor": requestor.pk, "idempotency_key": "form-1"},
    )
    assert response.status_code == 302, response.content
    page = requests.get(response["Location"], timeout=5)
    assert page.status_code == 200, page.text
    return page


def _submit(page: requests.Response, **form: str) -> requests.Response:
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, page.text
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    data = ({"session": session.group(1)} if session else {}) | form
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    return requests.post(origin + action.group(1), data=data, allow_redirects=False, timeout=20)


def _code_page(page: requests.Response) -> requests.Response:
    saved = _submit(page, action="save", authentication="code", account="")
    assert saved.status_code == 303, saved.text
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    code_page = requests.get(origin + saved.headers["Location"], timeout=5)
    assert "Confirm your card" in code_page.text
    return code_page


def _location(answer: requests.Response) -> str:
    """Where the merchant sends the browser back to."""
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["Location"]
    return location


def _come_back(portal: Client, callback: str) -> str:
    """The browser at the portal's callback, then on the confirmation page it is sent to."""
    parts = urlsplit(callback)
    assert parts.netloc == "testserver"
    response = portal.get(parts.path, parse_qs(parts.query))
    assert response.status_code == 302
    page = portal.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def _sandbox_code(sandbox: SandboxServer, card: Card) -> str:
    messages = requests.get(
        f"{sandbox.origin}/inbox/messages.json", params={"to": f"Card ending {card.last_four}"}, timeout=5
    ).json()["messages"]
    found = re.search(r"is (\d{6})\.", messages[0]["body"])
    assert found
    return found.group(1)


def _receipt() -> PushReceipt:
    receipt: PushReceipt = PushReceipt.objects.get()
    return receipt


@pytest.mark.django_db
def test_a_card_saved_and_confirmed_with_the_code_reads_as_saved_and_confirmed(
    portal: Client, card: Card, sandbox: SandboxServer
) -> None:
    code_page = _code_page(_merchant_page(portal, card))

    page = _come_back(portal, _location(_submit(code_page, action="confirm", code=_sandbox_code(sandbox, card))))

    assert f"Your card •••• {card.last_four} is saved at {MERCHANT} and was confirmed there." in page
    receipt = _receipt()
    assert (receipt.result, receipt.network_check) == (PushReceipt.Result.AUTHENTICATED, NetworkCheck.CONFIRMED)
    token = CardToken.objects.get(token_unique_reference=receipt.token_unique_reference)
    assert token.status == CardToken.Status.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize("ending", ["cancel", "expire"])
def test_a_check_that_did_not_complete_reads_as_removed_by_the_merchant(
    portal: Client, card: Card, ending: str
) -> None:
    code_page = _code_page(_merchant_page(portal, card))

    page = _come_back(portal, _location(_submit(code_page, action=ending)))

    assert f"{MERCHANT} did not keep •••• {card.last_four}: it could not be confirmed there." in page
    receipt = _receipt()
    assert (receipt.result, receipt.network_check) == (PushReceipt.Result.DELETED, NetworkCheck.CONFIRMED)
    token = CardToken.objects.get(token_unique_reference=receipt.token_unique_reference)
    assert token.status == CardToken.Status.DELETED  # the network's word, kept with the card


@pytest.mark.django_db
def test_a_browser_claiming_authenticated_for_a_deleted_token_is_corrected_by_the_network(
    portal: Client, card: Card
) -> None:
    callback = _location(_submit(_code_page(_merchant_page(portal, card)), action="cancel"))
    assert "DELETED%7C" in callback

    page = _come_back(portal, callback.replace("DELETED%7C", "AUTHENTICATED%7C"))

    assert "is saved at" not in page
    assert _receipt().network_check == NetworkCheck.CORRECTED


@pytest.mark.django_db(transaction=True)
def test_with_the_issuer_services_the_code_comes_from_the_bank_and_the_bank_hears_the_outcome(
    portal: Client, card: Card, sandbox: SandboxServer, issuer_services_on: Any, live_server: Any
) -> None:
    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    code_page = _code_page(_merchant_page(portal, card))
    assert "a code by an e-mail to p•••@example.test" in code_page.text  # the method the bank offered, masked
    message = str(mail.outbox[-1].body)
    assert f"to {MERCHANT}" in message
    code = re.search(r"is (\d+)\.", message)
    assert code

    page = _come_back(portal, _location(_submit(code_page, action="confirm", code=code.group(1))))

    assert f"is saved at {MERCHANT} and was confirmed there" in page
    receipt = _receipt()
    asked = TokenizationRequest.objects.get(token_unique_reference=receipt.token_unique_reference)
    assert (asked.trid, asked.source) == (CARD_ON_FILE_TRID, "ACCOUNT_ADDED_VIA_APPLICATION")
    assert asked.state == TokenizationRequest.State.ACTIVATED  # notifyServiceActivated reached the bank
