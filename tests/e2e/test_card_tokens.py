"""Where your cards are, in Chromium: a card added to DemoPay shows under the card on the home page; the cardholder
pauses, resumes and removes it there; a card the bank paused offers no resume. The portal is the live server, MDES
and DemoPay the sandbox. Screenshots of every step land in test-artifacts/.
"""

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from cardholders.models import Cardholder
from provisioning.models import CardToken
from provisioning.tokens import TokenActor, card_tokens_refresh, token_suspend
from tests import factories
from tests.e2e.conftest import (
    OUTCOME_PAGE,
    accessibility_violations,
    page_problems,
    screenshot,
    sign_in,
    step_up_by_email,
)
from tests.fixtures.sandbox_server import SandboxServer
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
DEMOPAY = "50100000011"


def _row(page: Any, wallet: str) -> str:
    """The line under the card for one wallet or merchant, as a person reads it."""
    return str(page.locator(".place-list .place", has_text=wallet).inner_text())


def _checked(page: Any, name: str) -> None:
    screenshot(page, name)
    assert accessibility_violations(page) == []
    assert page_problems(page) == []


def test_a_cardholder_sees_where_a_card_went_and_pauses_resumes_and_removes_it(
    browser: Any, live_server: Any, plain_http_settings: Any, alice: Cardholder
) -> None:
    context = browser.new_context(base_url=live_server.url, user_agent=ANDROID, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.console_errors = []
    try:
        sign_in(phone, alice.user.email)
        phone.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
        step_up_by_email(phone)
        phone.get_by_label(re.compile("DemoPay")).check()
        phone.get_by_role("button", name="Continue", exact=True).click()
        phone.get_by_role("heading", name="DemoPay").wait_for()  # the sandbox's simulated wallet
        phone.get_by_role("button", name=re.compile("Approve")).click()
        phone.wait_for_url(OUTCOME_PAGE)
        phone.get_by_role("link", name="Back to your cards").click()

        phone.get_by_role("heading", name="Your cards").wait_for()
        row = _row(phone, "DemoPay")
        assert "Pixel 9 (sandbox) · phone" in row
        assert "Active · since" in row
        assert (
            "Checked just now"
            in phone.locator("#card-" + str(alice.cards.get(last_four="4444").public_id)).inner_text()
        )
        _checked(phone, "tokens-phone-home")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390

        phone.get_by_role("link", name="Pause Everyday Debit in DemoPay on Pixel 9 (sandbox)").click()
        phone.get_by_role("heading", name="Pause Everyday Debit in DemoPay on Pixel 9 (sandbox)?").wait_for()
        assert "Payments with this card in DemoPay on Pixel 9 (sandbox) stop until you resume it." in (
            phone.locator("main").inner_text()
        )
        _checked(phone, "tokens-phone-pause")
        phone.get_by_role("button", name="Pause", exact=True).click()
        phone.get_by_text("Everyday Debit is paused in DemoPay on Pixel 9 (sandbox).").wait_for()
        assert "Paused by you" in _row(phone, "DemoPay")
        _checked(phone, "tokens-phone-paused")

        phone.get_by_role("link", name="Resume Everyday Debit in DemoPay on Pixel 9 (sandbox)").click()
        phone.get_by_role("button", name="Resume", exact=True).click()
        phone.get_by_text("Everyday Debit works again in DemoPay on Pixel 9 (sandbox).").wait_for()
        assert "Active" in _row(phone, "DemoPay")
        _checked(phone, "tokens-phone-resumed")

        phone.get_by_role("link", name="Remove Everyday Debit from DemoPay on Pixel 9 (sandbox)").click()
        phone.get_by_role("button", name="Remove everywhere").wait_for()
        _checked(phone, "tokens-phone-remove")
        phone.get_by_role("button", name="Remove from this phone only").click()
        phone.get_by_text("Everyday Debit is removed from DemoPay on Pixel 9 (sandbox).").wait_for()
        assert phone.locator(".place-list .place").count() == 0
        phone.get_by_text("Removed from 1 place").click()  # folded away until asked for
        assert "DemoPay on Pixel 9 (sandbox) · removed from the device" in phone.locator(".places-removed").inner_text()
        _checked(phone, "tokens-phone-removed")
    finally:
        context.close()
    token = CardToken.objects.get()
    assert token.deleted_from_consumer_app
    assert token.status == CardToken.Status.ACTIVE  # kept in the network: only the phone let it go


@pytest.fixture
def operations_staff(db: Any) -> User:
    staff: User = factories.StaffUserFactory.create(is_superuser=False)
    staff.user_permissions.add(Permission.objects.get(codename="change_cardtoken"))
    return User.objects.get(pk=staff.pk)  # permissions are read afresh


def test_a_card_the_bank_paused_says_so_and_offers_no_resume(
    page: Any, alice: Cardholder, sandbox: SandboxServer, operations_staff: User
) -> None:
    card = alice.cards.get(last_four="4444")
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, deviceName="Pixel 8", deviceType="21"
    )
    card_tokens_refresh(card)
    token_suspend(
        CardToken.objects.get(card=card),
        actor=TokenActor.staff(operations_staff),
        reason_code="S",
        comment="Cardholder called: phone stolen",
    )

    sign_in(page, alice.user.email)
    page.get_by_role("heading", name="Your cards").wait_for()
    row = _row(page, "DemoPay")
    assert "Paused by your bank" in row
    assert "call us on the number on the back of your card" in row
    assert page.get_by_role("link", name=re.compile("^Resume")).count() == 0
    _checked(page, "tokens-desktop-paused-by-bank")

    # Removing still needs a fresh second factor, and the code page leads back to the same removal.
    page.get_by_role("link", name="Remove Everyday Debit from DemoPay on Pixel 8").click()
    page.get_by_text("You are removing this card:").wait_for()
    assert "Everyday Debit •••• 4444 in DemoPay on Pixel 8" in page.locator("main").inner_text()
    screenshot(page, "tokens-desktop-step-up-for-removal")
    step_up_by_email(page)
    page.get_by_role("heading", name="Remove Everyday Debit from DemoPay on Pixel 8?").wait_for()
    _checked(page, "tokens-desktop-remove")
