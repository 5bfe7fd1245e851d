"""A cardholder and a staff member sign in through the real pages in Chromium."""

from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from cardholders.models import Cardholder
from tests import factories
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot, sign_in, totp_now

pytestmark = pytest.mark.django_db(transaction=True)


def test_cardholder_signs_in_and_sees_masked_cards(page: Any, network_config: Any) -> None:
    cardholder: Cardholder = factories.CardholderFactory.create()
    factories.CardFactory.create(cardholder=cardholder)
    factories.CardFactory.create(
        cardholder=cardholder, card_number="5200828282828210", product_kind="gift", product_name="Gift"
    )

    page.goto("/")
    assert accessibility_violations(page) == []
    page.goto("/accounts/login/")
    screenshot(page, "sign-in")
    assert accessibility_violations(page) == []

    sign_in(page, cardholder.user.email)
    page.get_by_role("heading", name="Your cards").wait_for()
    body = page.locator("main").inner_text()
    assert "•••• 4444" in body
    assert "•••• 8210" in body
    assert "5555555555554444" not in page.content()
    screenshot(page, "cards")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []


def test_staff_sign_in_requires_the_authenticator_code(page: Any) -> None:
    secret = generate_totp_secret()
    staff = factories.StaffUserFactory.create()
    TOTP.activate(staff, secret)

    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/**")
    sign_in(page, staff.email)
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    screenshot(page, "staff-second-factor")
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/")
    assert "Site administration" in page.content() or "Operations" in page.content()
    screenshot(page, "staff-area")
    assert page_problems(page) == []


def test_an_idle_cardholder_is_warned_and_can_stay_signed_in(
    page: Any, network_config: Any, plain_http_settings: Any
) -> None:
    plain_http_settings.SESSION_COOKIE_AGE = 126  # the warning comes two minutes before the end: after 6 s here
    cardholder: Cardholder = factories.CardholderFactory.create()
    sign_in(page, cardholder.user.email)
    page.get_by_role("heading", name="Your cards").wait_for()
    warning = page.get_by_role("alertdialog")
    warning.wait_for(state="visible", timeout=15_000)
    screenshot(page, "session-warning")
    with page.expect_response(lambda r: "/session/keep-alive/" in r.url and r.status == 204):
        page.get_by_role("button", name="Stay signed in").click()
    assert warning.is_hidden()
    assert accessibility_violations(page) == []
    assert page_problems(page) == []
