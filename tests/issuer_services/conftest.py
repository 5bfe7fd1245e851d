"""The portal's issuer services, called over HTTP by the sandbox's MDES client (the portal is the live server).

- `issuer_services_on`: the services enabled, checking the sandbox's signature, decrypting with the demo key.
- `mdes`: the sandbox's client of them (signed, the funding account encrypted to the portal's certificate).
- `alice_card`: an active card of a cardholder with a mobile number and an e-mail address; `alice_data` its data.
- `ask` / `new_token`: an authorizeService for that card as the sandbox wallet sends it, on a fresh token reference.
"""

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from cardholders.models import Card
from core import messaging
from sandbox.issuer_services import CardData, Device, IssuerServicesClient, new_correlation_id
from sandbox.keys import DemoKeys
from tests import factories
from tests.fixtures.sandbox_server import SandboxServer

DEMOPAY = "50100000011"
PREFIX = "/mdes-issuer/1/0"


@pytest.fixture
def issuer_services_on(settings: Any, sandbox_keys: DemoKeys, live_server: Any) -> Any:
    settings.ISSUER_SERVICES_ENABLED = True
    settings.ISSUER_SERVICES_AUTHENTICATION = ["signature"]
    settings.ISSUER_SERVICES_SIGNATURE_KEY_PATHS = [str(sandbox_keys.issuer_services_verification_key)]
    settings.ISSUER_SERVICES_DECRYPTION_KEY_PATH = str(sandbox_keys.issuer_decryption_p12)
    settings.ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD = sandbox_keys.issuer_decryption_p12_password
    settings.PORTAL_BASE_URL = live_server.url
    return settings


@pytest.fixture
def mdes(issuer_services_on: Any, sandbox_keys: DemoKeys, live_server: Any) -> IssuerServicesClient:
    return IssuerServicesClient.for_keys(sandbox_keys, f"{live_server.url}{PREFIX}")


@pytest.fixture
def inbox(settings: Any, sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """Texts and e-mails go to the sandbox inbox (so both channels are on file), as in the demo."""
    settings.PORTAL_MESSAGE_BACKEND = "core.messaging.SandboxInboxBackend"
    settings.PORTAL_SANDBOX_INBOX_URL = f"{sandbox.origin}/inbox/messages"
    messaging._backend.cache_clear()
    yield sandbox
    messaging._backend.cache_clear()


def inbox_messages(sandbox: SandboxServer, to: str) -> list[dict[str, Any]]:
    """What the portal sent `to` through the sandbox inbox, newest first."""
    response = requests.get(f"{sandbox.origin}/inbox/messages.json", params={"to": to}, timeout=5)
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


@pytest.fixture
def alice_card(transactional_db: Any) -> Card:
    cardholder = factories.CardholderFactory.create(
        phone_number="+15555555678", user__email="alice@demo.example", preferred_locale="en_US"
    )
    factories.NetworkConfigurationFactory.create()
    card: Card = factories.CardFactory.create(cardholder=cardholder)
    return card


@pytest.fixture
def alice_data() -> CardData:
    return CardData(
        account_number=factories.TEST_CARD_NUMBERS[0], expiry_month="12", expiry_year="30", security_code="123"
    )


@dataclass(frozen=True)
class Asked:
    """The portal's answer to authorizeService, and what was sent (token reference, correlation id, ...)."""

    status: int
    body: dict[str, Any]
    sent: dict[str, Any]

    @property
    def reference(self) -> str:
        return str(self.sent["token_unique_reference"])

    @property
    def correlation_id(self) -> str:
        return str(self.sent["correlation_id"])


def new_reference() -> str:
    return "DSBXMC" + secrets.token_hex(21).upper()


@pytest.fixture
def ask(mdes: IssuerServicesClient, alice_data: CardData) -> Callable[..., Any]:
    """authorizeService for Alice's card typed into DemoPay on a phone; keyword arguments change the request."""

    def call(card: CardData = alice_data, **fields: Any) -> Any:
        defaults: dict[str, Any] = {
            "token_unique_reference": new_reference(),
            "correlation_id": new_correlation_id(),
            "token_requestor_id": DEMOPAY,
            "wallet_id": "216",
            "device": Device("Pixel 9 (sandbox)"),
            "payment_app_instance_id": secrets.token_hex(24),
            "consumer_facing_name": "DemoPay",
        }
        fields = defaults | fields
        answer = mdes.authorize_service(card, **fields)
        return Asked(status=answer.status, body=answer.body, sent=fields)

    return call
