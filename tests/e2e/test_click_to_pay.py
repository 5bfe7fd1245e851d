"""Click to Pay in Chromium: its own place on the wallet step, the review of the data it gets, consent where it
must be explicit, the push to the sandbox's Click to Pay, the confirmation; and a cardholder without a mobile number
who sees why and completes their details. Screenshots (desktop and phone) land in test-artifacts/."""

import re
from typing import Any

import pytest

from cardholders.models import Cardholder
from provisioning.models import ClickToPayConsent, NetworkConfiguration
from tests import factories
from tests.e2e.conftest import (
    OUTCOME_PAGE,
    accessibility_violations,
    page_problems,
    screenshot,
    sign_in,
    step_up_by_email,
)

pytestmark = pytest.mark.django_db(transaction=True)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"
TERMS = "https://www.mastercard.com/global/click-to-pay/country-listing/terms.html"


@pytest.fixture
def berta(wallets_ready: NetworkConfiguration) -> Cardholder:
    """A cardholder in Germany (explicit opt-in: the consent box starts unticked) with a mobile number."""
    cardholder: Cardholder = factories.CardholderFactory.create(
        phone_number="+4915112345678",
        address_line1="Hauptstrasse 1",
        address_city="Berlin",
        address_postal_code="10115",
        address_country="DEU",
    )
    factories.CardFactory.create(cardholder=cardholder)
    return cardholder


def _to_click_to_pay_review(page: Any, cardholder: Cardholder, name: str) -> None:
    sign_in(page, cardholder.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    step_up_by_email(page)
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    screenshot(page, f"{name}-choose")
    assert accessibility_violations(page) == []
    page.get_by_role("link", name="Review and add to Click to Pay (simulated)").click()
    page.get_by_role("heading", name="Review what goes to Click to Pay (simulated)").wait_for()


def _review_consent_push(page: Any, cardholder: Cardholder, name: str) -> None:
    _to_click_to_pay_review(page, cardholder, name)
    shared = page.locator(".review-data").inner_text()
    for value in ("Susan Example", cardholder.user.email, "+49 1511 2345678", "Hauptstrasse 1"):
        assert value in shared
    assert page.get_by_role("link", name="terms of use").get_attribute("href") == TERMS
    consent = page.get_by_label(re.compile("I agree that"))
    assert not consent.is_checked()  # Germany: explicit opt-in
    screenshot(page, f"{name}-review")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Agree and continue").click()
    page.locator("#consent-error").wait_for()
    assert "Tick the box to agree" in page.locator("#consent-error").inner_text()
    screenshot(page, f"{name}-consent-required")
    assert accessibility_violations(page) == []
    page.get_by_label(re.compile("I agree that")).check()
    page.get_by_role("button", name="Agree and continue").click()
    page.get_by_role("heading", name="Add your card to Click to Pay").wait_for()  # the sandbox's Click to Pay
    page.get_by_role("button", name="Add to Click to Pay").click()
    received = page.locator("main").inner_text()  # what Click to Pay received: exactly the reviewed data
    assert cardholder.user.email in received
    assert cardholder.phone_number[-4:] in received
    screenshot(page, f"{name}-sandbox")
    page.get_by_role("link", name="Continue to your bank").click()
    page.wait_for_url(OUTCOME_PAGE)
    text = page.locator("main").inner_text()
    assert "is now in Click to Pay (simulated)" in text
    assert "At checkouts that show the Click to Pay icon" in text
    screenshot(page, f"{name}-result")
    assert accessibility_violations(page) == []
    assert ClickToPayConsent.objects.get().explicit_opt_in is True


def test_a_cardholder_reviews_agrees_and_adds_a_card_to_click_to_pay(page: Any, berta: Cardholder) -> None:
    _review_consent_push(page, berta, "click-to-pay-desktop")
    assert [p for p in page_problems(page) if "422" not in p] == []  # the refused first try answered 422


def test_the_same_on_a_phone(browser: Any, live_server: Any, plain_http_settings: Any, berta: Cardholder) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, user_agent=IPHONE, is_mobile=True
    )
    phone = context.new_page()
    phone.console_errors = []
    try:
        _review_consent_push(phone, berta, "click-to-pay-phone")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_without_a_mobile_number_the_cardholder_sees_why_and_completes_their_details(
    page: Any, wallets_ready: NetworkConfiguration
) -> None:
    cardholder: Cardholder = factories.CardholderFactory.create(phone_number="")
    factories.CardFactory.create(cardholder=cardholder)
    sign_in(page, cardholder.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    step_up_by_email(page)
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    section = page.locator(".click-to-pay")
    assert "Click to Pay needs your mobile number, and we do not have it yet." in section.inner_text()
    assert section.get_by_role("link", name=re.compile("Review and add")).count() == 0
    screenshot(page, "click-to-pay-missing-mobile")
    assert accessibility_violations(page) == []
    section.get_by_role("link", name="Complete your details").click()
    page.get_by_role("heading", name="Your details").wait_for()
    page.get_by_label("Mobile number").fill("12345")
    page.get_by_role("button", name="Save").click()
    page.locator(".field-error").wait_for()
    screenshot(page, "profile-error")
    assert accessibility_violations(page) == []
    page.get_by_label("Mobile number").fill("+1 415 555 0123")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Where should this card go?").wait_for()  # back where they were
    assert "Your details are saved." in page.locator("main").inner_text()
    page.get_by_role("link", name="Review and add to Click to Pay (simulated)").click()
    assert "+1 415-555-0123" in page.locator(".review-data").inner_text()
    assert page.get_by_label(re.compile("I agree that")).is_checked()  # the US: not an explicit opt-in country
    screenshot(page, "click-to-pay-review-completed")
