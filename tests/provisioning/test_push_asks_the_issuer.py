"""The sandbox's push asks the issuer: when the sandbox knows the portal's issuer services, a wallet redeeming a push
receipt makes MDES call authorizeService (source ACCOUNT_ADDED_VIA_APPLICATION) and the answer decides. The portal
pushes (test client), the sandbox's pages are driven over HTTP, its MDES calls the portal (live server)."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail
from django.test import Client

from cardholders.models import Card
from issuer_services.models import TokenizationRequest
from provisioning.models import CardToken, PushReceipt, TokenRequestor
from tests.fixtures.issuer_services import PREFIX
from tests.fixtures.sandbox_server import SandboxServer
from tests.wallet import DEMOPAY, callback_opened

pytestmark = pytest.mark.django_db(transaction=True)

RAA = "REQUIRE_ADDITIONAL_AUTHENTICATION"


@pytest.fixture
def asks_issuer(sandbox: SandboxServer, issuer_services_on: Any, live_server: Any) -> SandboxServer:
    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    return sandbox


def _wallet_answers(portal: Client, card: Card, decision: str = "APPROVED", **assessment: str) -> requests.Response:
    """Push `card` to DemoPay; its page answers `decision` with the wallet's assessment; the page's response."""
    requestor = TokenRequestor.objects.get(trid=DEMOPAY)
    pushed = portal.post(
        "/push/", {"card": [card.public_id], "token_requestor": requestor.pk, "idempotency_key": "form-1"}
    )
    assert pushed.status_code == 302, pushed.content
    redirect_url = str(pushed["Location"])
    page = requests.get(redirect_url, timeout=20)
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert session, page.text
    action = urlsplit(redirect_url)._replace(path=f"/tr/{DEMOPAY}/decision", query="").geturl()
    form = {"session": session.group(1), "decision": decision, "recommendation": "", "device_score": ""}
    form |= {"account_score": ""} | assessment
    return requests.post(action, data=form, allow_redirects=False, timeout=30)


def _callback(answer: requests.Response) -> str:
    assert answer.status_code == 303, answer.text
    location = answer.headers["Location"]
    assert location.startswith("https://testserver/push/"), location
    return location


def _outcome_page(portal: Client, callback: str) -> str:
    response = callback_opened(portal, callback)
    assert response.status_code == 302
    return portal.get(response["Location"]).content.decode()


def _sandbox_status(sandbox: SandboxServer) -> str:
    [token] = sandbox.tokens()
    return str(token["CurrentStatusCode"])


def test_the_portals_approval_of_its_own_push_lets_the_wallet_add_the_card(
    portal: Client, card: Card, asks_issuer: SandboxServer
) -> None:
    callback = _callback(_wallet_answers(portal, card))

    asked = TokenizationRequest.objects.get()
    assert (asked.decision, asked.reasons) == ("APPROVED", ["push_from_portal"])
    assert "APPROVED%7C" in callback
    assert _sandbox_status(asks_issuer) == "A"
    assert CardToken.objects.get().status == "A"  # notifyServiceActivated reached the portal
    assert "is now in DemoPay" in _outcome_page(portal, callback)


def test_the_issuers_decline_makes_the_wallet_return_declined(
    portal: Client, card: Card, asks_issuer: SandboxServer
) -> None:
    callback = _callback(_wallet_answers(portal, card, recommendation="DECLINED"))

    assert TokenizationRequest.objects.get().reasons == ["push_from_portal", "wallet_declined"]
    assert callback.endswith("=DECLINED")
    assert asks_issuer.tokens() == []
    assert "was declined" in _outcome_page(portal, callback)


def test_proof_asked_for_runs_the_activation_methods_and_the_wallet_returns_once_the_card_is_added(
    portal: Client, card: Card, asks_issuer: SandboxServer
) -> None:
    answer = _wallet_answers(portal, card, recommendation=RAA)
    assert answer.status_code == 303
    page = requests.get(f"{asks_issuer.origin}{answer.headers['Location']}", timeout=20)
    assert "Confirm it is you" in page.text
    assert _sandbox_status(asks_issuer) == "U"

    chosen = re.search(r'value="(\d+)"[^>]*>\s*<label for="method-\d+">E-mail to', page.text)
    action = re.search(r'action="(/wallet/enrolments/[^/"]+)/method"', page.text)
    assert chosen, page.text
    assert action, page.text
    enrolment = f"{asks_issuer.origin}{action.group(1)}"
    page = requests.post(f"{enrolment}/method", data={"method": chosen.group(1)}, timeout=20)
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code
    page = requests.post(f"{enrolment}/code", data={"code": code.group(1)}, timeout=20)

    assert "Card added to DemoPay" in page.text
    back = re.search(r'href="([^"]+)">Back to your bank', page.text)
    assert back, page.text
    callback = back.group(1).replace("&amp;", "&")
    assert "APPROVED%7C" in callback
    assert "is now in DemoPay" in _outcome_page(portal, callback)


def test_with_streamlined_activation_the_wallet_leaves_the_waiting_token_to_the_portal(
    portal: Client, card: Card, asks_issuer: SandboxServer
) -> None:
    TokenRequestor.objects.filter(trid=DEMOPAY).update(complete_website_activation=False)

    callback = _callback(_wallet_answers(portal, card, recommendation=RAA))

    assert f"{RAA}%7C" in callback
    assert _sandbox_status(asks_issuer) == "U"  # no activation of the wallet's own
    page = _outcome_page(portal, callback)
    assert "is now in DemoPay" in page
    assert _sandbox_status(asks_issuer) == "A"
    assert PushReceipt.objects.get().activation == PushReceipt.Activation.DONE


def test_without_issuer_services_the_persons_choice_alone_decides(
    portal: Client, card: Card, sandbox: SandboxServer, issuer_services_on: Any
) -> None:
    callback = _callback(_wallet_answers(portal, card, recommendation="DECLINED"))

    assert "APPROVED%7C" in callback
    assert not TokenizationRequest.objects.exists()
