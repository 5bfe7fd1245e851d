"""A person types their card into the sandbox's wallet in Chromium; the sandbox's MDES asks the portal's issuer
services, the code the portal sends arrives in the demo inbox, the person enters it and the token is active.

Screenshots land in test-artifacts/manual-provisioning-*.png for a person to look at.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cardholders.models import Card
from core import messaging
from issuer_services.models import TokenizationRequest
from provisioning.models import CardToken
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot
from tests.fixtures.issuer_services import DEMOPAY, PREFIX
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wallet(
    sandbox: SandboxServer, issuer_services_on: Any, live_server: Any, alice_card: Card, settings: Any
) -> Iterator[SandboxServer]:
    """The sandbox knows the portal's issuer services; the portal's texts and e-mails go to the sandbox inbox."""
    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    settings.PORTAL_MESSAGE_BACKEND = "core.messaging.SandboxInboxBackend"
    settings.PORTAL_SANDBOX_INBOX_URL = f"{sandbox.origin}/inbox/messages"
    messaging._backend.cache_clear()
    yield sandbox
    messaging._backend.cache_clear()


def test_a_card_typed_into_the_wallet_is_confirmed_with_the_code_from_the_inbox(
    page: Any, wallet: SandboxServer
) -> None:
    page.goto(f"{wallet.origin}/wallet/{DEMOPAY}/add-card")
    page.get_by_role("heading", name="Add a card to DemoPay").wait_for()
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_label("Expiry month (MM)").fill("12")
    page.get_by_label("Expiry year (YY)").fill("30")
    page.get_by_label("Security code").fill("123")
    screenshot(page, "manual-provisioning-add")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Add card").click()

    page.get_by_role("heading", name="Confirm it is you").wait_for()
    screenshot(page, "manual-provisioning-methods")
    assert accessibility_violations(page) == []
    page.get_by_label("Text message to ••• 5678").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("The code your bank sent")).wait_for()
    screenshot(page, "manual-provisioning-code")

    page.get_by_role("link", name="Demo inbox").click()
    page.get_by_role("heading", name="Demo inbox").wait_for()
    screenshot(page, "manual-provisioning-inbox")
    text = page.locator("main").inner_text()
    assert "DemoPay" in text
    assert "ending 4444" in text
    code = re.search(r"is (\d{6})\.", text)
    assert code
    page.go_back()

    page.get_by_label(re.compile("The code your bank sent")).fill(code.group(1))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Card added to DemoPay").wait_for()
    screenshot(page, "manual-provisioning-added")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []

    token = CardToken.objects.get()
    assert (token.status, token.device_name, token.trid) == (CardToken.Status.ACTIVE, "Pixel 9 (sandbox)", DEMOPAY)
    assert TokenizationRequest.objects.get().state == TokenizationRequest.State.ACTIVATED
