"""Fixtures of the API tests: real credentials made the way callers get them, and the sandbox MDES for pushes."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ProgramApiKey
from cardholders.models import Card, Cardholder, Program
from provisioning import refresh
from provisioning.models import NetworkConfiguration, TokenRequestor
from tests import factories

DEMOPAY, SUNDAY_STORE = "50100000011", "50100000022"


class HttpsApiClient(APIClient):
    """DRF's test client, over HTTPS as every real caller (the portal redirects plain HTTP)."""

    def request(self, **request: Any) -> Any:
        request.update({"wsgi.url_scheme": "https", "SERVER_PORT": "443"})
        return super().request(**request)


def step_up_by_email(client: APIClient) -> None:
    """Pass the portal's step-up with the e-mailed code, as the app's web view does."""
    client.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"}, format="multipart")
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code
    response = client.post(
        reverse("step_up"), {"action": "verify_code", "code": code.group(1), "next": "/"}, format="multipart"
    )
    assert response.status_code == 302


@pytest.fixture
def session_client(cardholder: Cardholder) -> HttpsApiClient:
    """The cardholder's browser: signed in and just stepped up."""
    client = HttpsApiClient()
    client.force_login(cardholder.user)
    step_up_by_email(client)
    return client


@pytest.fixture
def issue_tokens() -> Callable[[Cardholder, int], list[str]]:
    """`count` app tokens for `cardholder`, issued by the API to one signed-in, stepped-up session."""

    def issue(cardholder: Cardholder, count: int) -> list[str]:
        client = HttpsApiClient()
        client.force_login(cardholder.user)
        step_up_by_email(client)
        tokens = []
        for _ in range(count):
            response = client.post(reverse("api:token_create"))
            assert response.status_code == 201, response.content
            tokens.append(response.json()["token"])
        return tokens

    return issue


@pytest.fixture
def issue_token(issue_tokens: Callable[[Cardholder, int], list[str]]) -> Callable[[Cardholder], str]:
    """An app token for `cardholder`, issued by the API to a signed-in, stepped-up session."""

    def issue(cardholder: Cardholder) -> str:
        return issue_tokens(cardholder, 1)[0]

    return issue


@pytest.fixture
def app(cardholder: Cardholder, issue_token: Callable[[Cardholder], str]) -> HttpsApiClient:
    """The issuer's app acting for `cardholder` with its token (no session, no cookies)."""
    client = HttpsApiClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(cardholder)}")
    return client


@pytest.fixture
def program(db: Any) -> Program:
    return factories.ProgramFactory.create(name="Gift cards")


@pytest.fixture
def make_manager() -> Callable[[Program], HttpsApiClient]:
    def make(program: Program) -> HttpsApiClient:
        _, key = ProgramApiKey.objects.create_key(name="partner", program=program)
        client = HttpsApiClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    return make


@pytest.fixture
def manager(program: Program, make_manager: Callable[[Program], HttpsApiClient]) -> HttpsApiClient:
    """A program manager's service with an API key of `program`."""
    return make_manager(program)


@pytest.fixture
def gift_card(network_config: NetworkConfiguration, program: Program) -> Card:
    """A card of the program without a cardholder account: one to hand out by landing link."""
    return factories.GiftCardFactory.create(program=program, product_name="Gift Card")


@pytest.fixture
def requestors(sandbox_network_config: NetworkConfiguration) -> NetworkConfiguration:
    """Token requestors refreshed from the sandbox MDES and offered to cardholders."""
    sandbox_network_config.callback_base_url = "https://testserver"
    sandbox_network_config.save()
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    return sandbox_network_config
