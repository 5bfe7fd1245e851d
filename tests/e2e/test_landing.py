"""A gift card's recipient, on a phone, opens the link, reads the code in the sandbox inbox and adds the card.

The portal is the live server, MDES and the wallet are the sandbox, the code goes through the sandbox inbox as in
the demo. Screenshots of every landing page state land in test-artifacts/.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.utils import timezone

from core import messaging
from landing.models import LandingLink
from landing.services import MintedLink, landing_link_mint, landing_link_revoke
from provisioning import refresh
from provisioning.models import NetworkConfiguration, PushRequest, TokenRequestor
from tests import factories
from tests.e2e.conftest import OUTCOME_PAGE, accessibility_violations, page_problems, screenshot, tab_to

pytestmark = pytest.mark.django_db(transaction=True)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"
SAM_PHONE = "+15555550123"


@pytest.fixture
def inbox(settings: Any, sandbox: Any) -> Iterator[str]:
    """Codes and links go to the sandbox inbox, as in the demo; yields the inbox page's address."""
    settings.PORTAL_MESSAGE_BACKEND = "core.messaging.SandboxInboxBackend"
    settings.PORTAL_SANDBOX_INBOX_URL = f"{sandbox.origin}/inbox/messages"
    messaging._backend.cache_clear()
    yield f"{sandbox.origin}/inbox"
    messaging._backend.cache_clear()


@pytest.fixture
def wallets_ready(sandbox_network_config: NetworkConfiguration, live_server: Any, settings: Any) -> None:
    sandbox_network_config.callback_base_url = live_server.url
    sandbox_network_config.save()
    settings.PORTAL_BASE_URL = live_server.url
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)


@pytest.fixture
def gift(wallets_ready: None, inbox: str) -> MintedLink:
    return landing_link_mint(
        card=factories.GiftCardFactory.create(),
        purpose="gift",
        recipient_phone=SAM_PHONE,
        recipient_email="sam@example.test",
        message="Happy birthday, Sam! Treat yourself.",
        actor_label="test",
        deliver=True,
    )


@pytest.fixture
def phone(browser: Any, live_server: Any, plain_http_settings: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url,
        user_agent=IPHONE,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.console_errors = []
    yield page
    context.close()


def _code_from_inbox(page: Any, inbox: str) -> str:
    """Read the newest code on the sandbox inbox page, in a second tab, as the recipient reads their SMS."""
    tab = page.context.new_page()
    try:
        tab.goto(inbox)
        newest = tab.locator("ol.inbox > li").first.inner_text()
    finally:
        tab.close()
    code = re.search(r"\b(\d{8})\b", newest)
    assert code, newest
    return code.group(1)


def _check(page: Any, name: str) -> None:
    screenshot(page, name)
    assert accessibility_violations(page) == []
    assert page_problems(page) == []


def test_the_link_arrives_by_text_message(gift: MintedLink, sandbox: Any) -> None:
    messages = requests.get(f"{sandbox.origin}/inbox/messages.json", params={"to": SAM_PHONE}, timeout=5).json()
    assert gift.url in messages["messages"][0]["body"]


def test_a_phone_opens_the_gift_card_and_adds_it_to_the_sandbox_wallet(phone: Any, gift: MintedLink, inbox: str):
    phone.goto(gift.url)
    phone.get_by_role("heading", name="You have a gift card").wait_for()
    assert "/card/open/" not in phone.url  # the token left the address bar
    assert "Happy birthday, Sam!" in phone.locator("main").inner_text()
    assert phone.get_by_role("img", name=re.compile("QR code")).count() == 0
    _check(phone, "landing-phone-card")

    phone.get_by_label(re.compile("Text message to your phone ending 0123")).check()
    phone.get_by_role("button", name="Send code").click()
    phone.get_by_label(re.compile("The code we sent")).fill("00000000")
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_text("That code is not right").wait_for()
    _check(phone, "landing-phone-code-error")

    phone.get_by_label(re.compile("The code we sent")).fill(_code_from_inbox(phone, inbox))
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("group", name="Where should this card go?").wait_for()
    _check(phone, "landing-phone-wallets")

    phone.get_by_label(re.compile("DemoPay")).check()
    phone.get_by_role("button", name="Continue", exact=True).click()
    phone.get_by_role("heading", name="DemoPay").wait_for()  # the sandbox's simulated wallet
    screenshot(phone, "landing-phone-wallet")
    phone.get_by_role("button", name=re.compile("Approve")).click()
    phone.wait_for_url(OUTCOME_PAGE)  # the confirmation page, its heading the outcome
    assert "is now in DemoPay" in phone.locator("main").inner_text()
    _check(phone, "landing-phone-result")

    phone.get_by_role("link", name="Back to your card").click()
    phone.get_by_role("heading", name="Already done with this card").wait_for()
    assert "Added: DemoPay, on" in phone.locator("main").inner_text()
    _check(phone, "landing-phone-after")
    push = PushRequest.objects.get()
    assert (push.device_environment, push.channel, push.state) == ("IOS", "landing", "returned")
    assert factories.TEST_CARD_NUMBERS[2] not in phone.content()


def test_a_desktop_shows_the_card_and_a_qr_code_for_the_phone(page: Any, gift: MintedLink) -> None:
    page.goto(gift.url)
    page.get_by_role("img", name=re.compile("QR code that opens this card on your phone")).wait_for()
    _check(page, "landing-desktop-qr")


def test_expired_revoked_and_unknown_links_show_their_pages(page: Any, gift: MintedLink) -> None:
    page.goto(gift.url)
    page.get_by_role("heading", name="You have a gift card").wait_for()
    LandingLink.objects.filter(pk=gift.link.pk).update(expires_at=timezone.now())
    page.reload()
    page.get_by_role("heading", name="This link has expired").wait_for()
    assert "8210" not in page.locator("main").inner_text()
    screenshot(page, "landing-expired")
    assert accessibility_violations(page) == []

    other = landing_link_mint(card=gift.link.card, purpose="gift", recipient_email="sam@example.test")
    page.goto(other.url)
    landing_link_revoke(link=other.link, actor_label="test")
    page.reload()
    page.get_by_role("heading", name="This link was withdrawn").wait_for()
    screenshot(page, "landing-revoked")
    assert accessibility_violations(page) == []

    page.goto(other.url)  # the token itself, now revoked: the one answer for every unusable link
    page.get_by_role("heading", name="This link cannot be used").wait_for()
    screenshot(page, "landing-unavailable")
    assert accessibility_violations(page) == []


def test_the_landing_flow_works_with_the_keyboard_alone(phone: Any, gift: MintedLink, inbox: str) -> None:
    phone.goto(gift.url)
    phone.get_by_role("heading", name="You have a gift card").wait_for()
    tab_to(phone, "Send code")
    phone.keyboard.press("Enter")
    phone.get_by_label(re.compile("The code we sent")).wait_for()
    tab_to(phone, "The code we sent")
    phone.keyboard.type(_code_from_inbox(phone, inbox))
    phone.keyboard.press("Enter")
    phone.get_by_role("group", name="Where should this card go?").wait_for()
    tab_to(phone, "DemoPay")  # preselected on a phone: its own wallet, not the first by name
    assert phone.get_by_label(re.compile("DemoPay")).is_checked()
    tab_to(phone, "Continue")
    phone.keyboard.press("Enter")
    phone.get_by_role("heading", name="DemoPay").wait_for()
    tab_to(phone, "Approve")
    phone.keyboard.press("Enter")
    phone.wait_for_url(OUTCOME_PAGE)  # the confirmation page, its heading the outcome
    assert "is now in DemoPay" in phone.locator("main").inner_text()


def test_the_landing_page_reflows_at_320_pixels(browser: Any, live_server: Any, plain_http_settings: Any, gift):
    context = browser.new_context(base_url=live_server.url, user_agent=IPHONE, viewport={"width": 320, "height": 640})
    narrow = context.new_page()
    try:
        narrow.goto(gift.url)
        narrow.get_by_role("heading", name="You have a gift card").wait_for()
        screenshot(narrow, "landing-narrow-320")
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()
