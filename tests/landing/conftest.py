"""Fixtures of the landing-link tests: a gift card of a program, a link minted for it, its recipient's browser."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail

from cardholders.models import Card
from landing.services import MintedLink, landing_link_mint
from provisioning import refresh
from provisioning.models import NetworkConfiguration, TokenRequestor
from tests import factories
from tests.https_client import HttpsClient

SAM_EMAIL = "sam@example.test"


@pytest.fixture
def offered_requestors(sandbox_network_config: NetworkConfiguration) -> NetworkConfiguration:
    """The sandbox's token requestors refreshed and offered; callbacks come back to the test client's host."""
    sandbox_network_config.callback_base_url = "https://testserver"
    sandbox_network_config.save()
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    return sandbox_network_config


@pytest.fixture
def gift_card(network_config: NetworkConfiguration) -> Card:
    return factories.GiftCardFactory.create()


@pytest.fixture
def minted(gift_card: Card) -> MintedLink:
    return landing_link_mint(
        card=gift_card,
        purpose="gift",
        recipient_email=SAM_EMAIL,
        message="Happy birthday, Sam!",
        actor_label="test",
    )


def token_path(minted: MintedLink) -> str:
    return urlsplit(minted.url).path


def page_path(minted: MintedLink) -> str:
    return f"/card/{minted.link.public_id}/"


def last_code() -> str:
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code, "no code in the last message"
    return code.group(1)


@pytest.fixture
def recipient(minted: MintedLink) -> HttpsClient:
    """Sam's browser, which opened the link."""
    client = HttpsClient()
    response = client.get(token_path(minted))
    assert response.status_code == 302
    return client


def send_code(client: HttpsClient, minted: MintedLink, channel: str = "email") -> Any:
    return client.post(f"{page_path(minted)}code/", {"action": "send", "channel": channel})


def enter_code(client: HttpsClient, minted: MintedLink, code: str) -> Any:
    return client.post(f"{page_path(minted)}code/", {"action": "verify", "code": code})


@pytest.fixture
def verified_recipient(recipient: HttpsClient, minted: MintedLink) -> HttpsClient:
    """Sam's browser after proving possession with the code sent to the e-mail on file."""
    assert send_code(recipient, minted).status_code == 302
    assert enter_code(recipient, minted, last_code()).status_code == 302
    return recipient
