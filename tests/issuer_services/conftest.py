"""The portal's issuer services, called over HTTP by the sandbox's MDES client (the portal is the live server);
`issuer_services_on`, `mdes`, `alice_card` and `alice_data` come from tests/fixtures/issuer_services.py.

- `inbox`: texts and e-mails go to the sandbox inbox (both channels on file); `inbox_messages` reads it.
- `ask`: an authorizeService for Alice's card as the sandbox wallet sends it, on a fresh token reference.
"""

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from core import messaging
from sandbox.issuer_services import CardData, Device, IssuerServicesClient, new_correlation_id
from tests.fixtures.issuer_services import DEMOPAY
from tests.fixtures.sandbox_server import SandboxServer


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
