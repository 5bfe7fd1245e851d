""" "Was this you?" in Chromium on a phone: a card typed into the sandbox's wallet becomes active, the portal's text
with a link arrives in the demo inbox, the link's page names the wallet, device and card, and one click suspends
the token in the sandbox's Customer Service API.

Screenshots land in test-artifacts/was-this-you-*.png for a person to look at.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cardholders.models import Card
from core import messaging
from issuer_services.models import TokenAlert
from provisioning.models import CardToken, NetworkConfiguration
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot
from tests.fixtures.issuer_services import DEMOPAY, PREFIX
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"


@pytest.fixture
def phone(browser: Any, live_server: Any, plain_http_settings: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, user_agent=IPHONE, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.extend([message.text] if message.type == "error" else []))
    page.console_errors = console_errors
    yield page
    context.close()


@pytest.fixture
def wallet(
    sandbox: SandboxServer,
    issuer_services_on: Any,
    live_server: Any,
    alice_card: Card,
    sandbox_configuration: NetworkConfiguration,
    settings: Any,
) -> Iterator[SandboxServer]:
    """The sandbox knows the portal's issuer services, the portal's messages go to the sandbox inbox, its Customer
    Service API is the sandbox's, and the task after a notification runs in the portal's process."""
    from config.celery import app

    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    settings.PORTAL_MESSAGE_BACKEND = "core.messaging.SandboxInboxBackend"
    settings.PORTAL_SANDBOX_INBOX_URL = f"{sandbox.origin}/inbox/messages"
    messaging._backend.cache_clear()
    config = NetworkConfiguration.objects.get(is_active=True)
    for name in ("base_url", "consumer_key", "signing_key_path", "signing_key_password_env"):
        setattr(config, name, getattr(sandbox_configuration, name))
    config.encryption_certificate_path = sandbox_configuration.encryption_certificate_path
    config.save()
    app.conf.task_always_eager = True
    yield sandbox
    app.conf.task_always_eager = not app.conf.broker_url
    messaging._backend.cache_clear()


def _add_card_with_the_texted_code(phone: Any, wallet: SandboxServer) -> None:
    phone.goto(f"{wallet.origin}/wallet/{DEMOPAY}/add-card")
    phone.get_by_label("Card number").fill("5555 5555 5555 4444")
    phone.get_by_label("Expiry month (MM)").fill("12")
    phone.get_by_label("Expiry year (YY)").fill("30")
    phone.get_by_label("Security code").fill("123")
    phone.get_by_role("button", name="Add card").click()
    phone.get_by_label("Text message to ••• 5678").check()
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("link", name="Demo inbox").click()
    code = re.search(r"is (\d{6})\.", phone.locator("main").inner_text())
    assert code
    phone.go_back()
    phone.get_by_label(re.compile("The code your bank sent")).fill(code.group(1))
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("heading", name="Card added to DemoPay").wait_for()


def test_a_card_typed_into_the_wallet_is_suspended_with_one_click_from_the_message(
    phone: Any, wallet: SandboxServer
) -> None:
    _add_card_with_the_texted_code(phone, wallet)
    token = CardToken.objects.get()
    assert token.status == CardToken.Status.ACTIVE

    phone.goto(f"{wallet.origin}/inbox")
    message = phone.get_by_role("article").filter(has_text="Was this you?")
    message.wait_for()
    assert "DemoPay on Pixel 9 (sandbox)" in message.inner_text()
    assert "•••• 4444" in message.inner_text()
    screenshot(phone, "was-this-you-inbox")
    message.get_by_role("link", name=re.compile("was-this-you")).click()

    phone.get_by_role("heading", name="Was this you?").wait_for()
    main = phone.locator("main").inner_text()
    assert "DemoPay" in main
    assert "Pixel 9 (sandbox)" in main
    assert "•••• 4444" in main
    screenshot(phone, "was-this-you-page")
    assert accessibility_violations(phone) == []
    assert page_problems(phone) == []
    assert wallet.tokens()[0]["CurrentStatusCode"] == "A"  # opening the link changed nothing

    phone.get_by_role("button", name="Suspend it").click()

    phone.get_by_role("heading", name="Suspended").wait_for()
    screenshot(phone, "was-this-you-suspended")
    assert accessibility_violations(phone) == []
    assert page_problems(phone) == []
    assert wallet.tokens()[0]["CurrentStatusCode"] == "S"
    token.refresh_from_db()
    assert token.status == CardToken.Status.SUSPENDED
    assert TokenAlert.objects.get().state == TokenAlert.State.SUSPENDED

    phone.goto(phone.url)  # the link again, a GET
    phone.get_by_role("heading", name="This link has been used").wait_for()
    screenshot(phone, "was-this-you-spent")
    assert accessibility_violations(phone) == []
