"""A cardholder and a staff member sign in through the real pages in Chromium."""

import time
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

from cardholders.models import Cardholder
from tests import factories
from tests.e2e.conftest import page_problems, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _accessibility_violations(page: Any) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def _sign_in(page: Any, email: str, password: str = factories.TEST_PASSWORD) -> None:
    """Fill in the sign-in form the page shows (opening it first if the page is elsewhere)."""
    if "/accounts/login/" not in page.url:
        page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_cardholder_signs_in_and_sees_masked_cards(page: Any, network_config: Any) -> None:
    cardholder: Cardholder = factories.CardholderFactory.create()
    factories.make_card(cardholder=cardholder)
    factories.make_card(cardholder=cardholder, card_number="5200828282828210", product_kind="gift", product_name="Gift")

    page.goto("/")
    assert _accessibility_violations(page) == []
    page.goto("/accounts/login/")
    screenshot(page, "sign-in")
    assert _accessibility_violations(page) == []

    _sign_in(page, cardholder.user.email)
    page.get_by_role("heading", name="Your cards").wait_for()
    body = page.locator("main").inner_text()
    assert "•••• 4444" in body
    assert "•••• 8210" in body
    assert "5555555555554444" not in page.content()
    screenshot(page, "cards")
    assert _accessibility_violations(page) == []
    assert page_problems(page) == []


def test_staff_sign_in_requires_the_authenticator_code(page: Any) -> None:
    secret = generate_totp_secret()
    staff = factories.StaffUserFactory.create()
    TOTP.activate(staff, secret)

    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/**")
    _sign_in(page, staff.email)
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    screenshot(page, "staff-second-factor")
    page.get_by_label("Code").fill(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/")
    assert "Site administration" in page.content() or "Operations" in page.content()
    screenshot(page, "staff-area")
    assert page_problems(page) == []
