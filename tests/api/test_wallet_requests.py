"""The issuer's app lists the cardholder's wallet requests and approves or declines one (the Wallet requests page's
twins), each answer checked in the sandbox MDES's own record of the token."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from cardholders.models import Card, Cardholder
from issuer_services.models import TokenizationRequest
from tests import factories
from tests.api.conftest import HttpsApiClient
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)

Waiting = tuple[requests.Response, TokenizationRequest]


@pytest.fixture
def alice_app(alice_card: Card, issue_token: Callable[[Cardholder], str]) -> HttpsApiClient:
    assert alice_card.cardholder is not None
    client = HttpsApiClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(alice_card.cardholder)}")
    return client


def _answer(client: HttpsApiClient, answer: str, record: TokenizationRequest) -> Any:
    return client.post(reverse(f"api:my_wallet_request_{answer}", args=[record.public_id]))


def _sandbox_status(sandbox: SandboxServer) -> str:
    [token] = sandbox.tokens()
    return str(token["CurrentStatusCode"])


def test_the_app_lists_the_waiting_request(waiting: Waiting, alice_app: HttpsApiClient) -> None:
    _, record = waiting

    listed = alice_app.get(reverse("api:my_wallet_requests"))

    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["id"] == str(record.public_id)
    assert entry["state"] == "waiting"
    assert entry["token_requestor"]["trid"] == "50100000011"
    assert entry["token_requestor"]["name"] == "DemoPay"
    assert entry["device_name"] == "Pixel 9 (sandbox)"
    assert entry["card"]["last_four"] == "4444"
    assert "first_six" not in entry["card"]


def test_approving_activates_the_token(waiting: Waiting, alice_app: HttpsApiClient, wallet: SandboxServer) -> None:
    _, record = waiting

    approved = _answer(alice_app, "approve", record)

    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved"
    assert _sandbox_status(wallet) == "A"


def test_declining_deletes_the_token(waiting: Waiting, alice_app: HttpsApiClient, wallet: SandboxServer) -> None:
    _, record = waiting

    declined = _answer(alice_app, "decline", record)

    assert declined.status_code == 200, declined.content
    assert declined.json()["state"] == "declined"
    assert _sandbox_status(wallet) == "D"
    assert _answer(alice_app, "approve", record).json()["code"] == "already_answered"


def test_an_answer_needs_a_fresh_step_up(waiting: Waiting, alice_card: Card, wallet: SandboxServer) -> None:
    _, record = waiting
    assert alice_card.cardholder is not None
    browser = HttpsApiClient()
    browser.force_login(alice_card.cardholder.user)  # signed in, no second factor lately

    refused = _answer(browser, "approve", record)

    assert refused.status_code == 403
    assert refused.json()["code"] == "step_up_required"
    assert _sandbox_status(wallet) == "U"


def test_an_expired_request_is_gone(waiting: Waiting, alice_app: HttpsApiClient, wallet: SandboxServer) -> None:
    _, record = waiting
    TokenizationRequest.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    refused = _answer(alice_app, "approve", record)

    assert refused.status_code == 410
    assert refused.json()["code"] == "expired"
    assert alice_app.get(reverse("api:my_wallet_requests")).json()[0]["state"] == "expired"
    assert _sandbox_status(wallet) == "U"


def test_another_cardholders_request_is_not_found(
    waiting: Waiting, issue_token: Callable[[Cardholder], str], wallet: SandboxServer
) -> None:
    _, record = waiting
    bob = HttpsApiClient()
    bob.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(factories.CardholderFactory.create())}")

    assert _answer(bob, "approve", record).status_code == 404
    assert bob.get(reverse("api:my_wallet_requests")).json() == []
    assert _sandbox_status(wallet) == "U"
