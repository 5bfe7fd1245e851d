"""A cardholder adds a card to a wallet in Chromium: the portal (live server), the sandbox MDES and its wallet page.

Screenshots of every page kind land in test-artifacts/ for a person to look at.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from cardholders.models import Cardholder
from provisioning.models import NetworkConfiguration, PushRequest, TokenRequestor
from tests import factories
from tests.e2e.conftest import (
    OUTCOME_PAGE,
    accessibility_violations,
    page_problems,
    screenshot,
    sign_in,
    step_up_by_email,
    tab_to,
)

pytestmark = pytest.mark.django_db(transaction=True)

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"


def _step_up_by_email(page: Any, name: str) -> None:
    def look() -> None:
        screenshot(page, f"{name}-step-up")
        assert accessibility_violations(page) == []

    step_up_by_email(page, before_the_code=look)


def _add_first_card(page: Any, wallet: str, decision: str, name: str) -> str:
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    _step_up_by_email(page, name)
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    screenshot(page, f"{name}-choose")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []
    page.get_by_label(re.compile(wallet)).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name=wallet).wait_for()  # the sandbox's simulated wallet page
    screenshot(page, f"{name}-wallet")
    page.get_by_role("button", name=re.compile(decision)).click()
    page.wait_for_url(OUTCOME_PAGE)  # the confirmation page, its heading the outcome
    screenshot(page, f"{name}-result")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []
    return str(page.locator("main").inner_text())


def test_desktop_cardholder_adds_a_card_to_a_wallet(page: Any, alice: Cardholder) -> None:
    sign_in(page, alice.user.email)
    text = _add_first_card(page, "DemoPay", "Approve", "desktop-approve")
    assert page.get_by_role("heading", level=1).inner_text() == "Your Everyday Debit is in DemoPay"
    assert "is now in DemoPay" in text
    assert factories.TEST_CARD_NUMBERS[0] not in page.content()
    assert PushRequest.objects.get().device_environment == "WEB"


@pytest.mark.parametrize(
    ("decision", "words"),
    [("Decline", "was declined"), ("Cancel", "You cancelled"), ("duplicate", "was already in DemoPay")],
)
def test_the_result_page_says_what_the_wallet_did(page: Any, alice: Cardholder, decision: str, words: str) -> None:
    sign_in(page, alice.user.email)
    assert words in _add_first_card(page, "DemoPay", decision, f"desktop-{decision.lower()}")


@pytest.mark.parametrize(("agent", "device", "path"), [(ANDROID, "ANDROID", "/android"), (IPHONE, "IOS", "/ios")])
def test_phones_land_on_their_own_app_uri(
    browser: Any, live_server: Any, plain_http_settings: Any, alice: Cardholder, agent: str, device: str, path: str
) -> None:
    context = browser.new_context(base_url=live_server.url, user_agent=agent, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.console_errors = []
    try:
        sign_in(phone, alice.user.email)
        _add_first_card(phone, "DemoPay", "Approve", f"{device.lower()}-approve")
        push = PushRequest.objects.get()
        assert push.device_environment == device
        assert push.state == PushRequest.State.RETURNED
        assert TokenRequestor.objects.get(pk=push.token_requestor_id).push_methods
    finally:
        context.close()
    assert path in {m["uri"][-len(path) :] for m in TokenRequestor.objects.get(trid="50100000011").push_methods}


def test_desktop_offers_to_continue_on_the_phone_with_a_qr_code(page: Any, alice: Cardholder) -> None:
    sign_in(page, alice.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    _step_up_by_email(page, "handoff")
    page.get_by_role("button", name="Continue on my phone").click()
    page.get_by_role("img", name=re.compile("QR code")).wait_for()
    screenshot(page, "desktop-continue-on-phone")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []


def test_network_trouble_ends_on_a_clear_page(page: Any, alice: Cardholder, sandbox: Any) -> None:
    sign_in(page, alice.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    _step_up_by_email(page, "network-error")
    sandbox.fail_next(503)
    page.get_by_label(re.compile("DemoPay")).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Your card was not added").wait_for()
    screenshot(page, "network-error")
    assert accessibility_violations(page) == []
    assert PushRequest.objects.get().state == PushRequest.State.FAILED


def test_the_whole_flow_works_with_the_keyboard_alone(page: Any, alice: Cardholder) -> None:
    page.goto("/accounts/login/")
    tab_to(page, "Email")
    page.keyboard.type(alice.user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(factories.TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your cards").wait_for()
    tab_to(page, "Add Everyday Debit")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    tab_to(page, "Send code")
    page.keyboard.press("Enter")
    page.get_by_label(re.compile("The code we sent")).wait_for()
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code
    tab_to(page, "The code we sent")
    page.keyboard.type(code.group(1))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    tab_to(page, "DemoPay")  # past Click to Pay's own section, to the first, checked option of the radio group
    assert page.get_by_label(re.compile("DemoPay")).is_checked()
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="DemoPay").wait_for()
    tab_to(page, "Approve")
    page.keyboard.press("Enter")
    page.wait_for_url(OUTCOME_PAGE)  # the confirmation page, its heading the outcome
    assert "is now in DemoPay" in page.locator("main").inner_text()


def test_pages_reflow_at_320_pixels_without_sideways_scrolling(
    browser: Any, live_server: Any, plain_http_settings: Any, alice: Cardholder
) -> None:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 640})
    narrow = context.new_page()
    narrow.console_errors = []
    card = alice.cards.get(last_four="4444")
    widths = {}

    def measure(name: str) -> None:
        widths[name] = narrow.evaluate("document.documentElement.scrollWidth")

    try:
        narrow.goto("/accounts/login/")
        measure("sign-in")
        sign_in(narrow, alice.user.email)
        narrow.get_by_role("heading", name="Your cards").wait_for()
        measure("cards")
        screenshot(narrow, "narrow-320-cards")
        narrow.goto(f"/wallets/?card={card.public_id}")  # sends to the step-up page first
        narrow.get_by_role("heading", name="Confirm it is you").wait_for()
        measure("step-up")
    finally:
        context.close()
    assert all(width <= 320 for width in widths.values()), widths


def test_a_receipt_that_expired_before_the_wallet_used_it_is_reported(
    page: Any, alice: Cardholder, wallets_ready: NetworkConfiguration, sandbox: Any
) -> None:
    wallets_ready.receipt_validity_minutes = 5
    wallets_ready.save()
    sign_in(page, alice.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    _step_up_by_email(page, "expired")
    page.get_by_label(re.compile("DemoPay")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue", exact=True).click()
    wallet_url = page.url
    sandbox.shift_clock(6 * 60)
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=True):
        page.goto(wallet_url)  # the cardholder comes back to the wallet tab six minutes later
        screenshot(page, "expired-wallet")
        page.get_by_role("link", name=re.compile("[Rr]eturn|[Bb]ack")).first.click()
        page.wait_for_url(OUTCOME_PAGE)  # the confirmation page, its heading the outcome
        screenshot(page, "expired-result")
        assert "expired before DemoPay used it" in page.locator("main").inner_text()
        assert accessibility_violations(page) == []
