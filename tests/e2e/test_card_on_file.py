"""A cardholder on a phone saves a card at a merchant that keeps cards on file and confirms it with a code from the
bank (post-tokenization authentication), in Chromium: the portal (live server), the sandbox's MDES, the merchant's
pages and the demo inbox. Screenshots land in test-artifacts/ (card-on-file-*.png)."""

import re
from typing import Any

import pytest
import requests

from cardholders.models import Cardholder
from provisioning.models import PushReceipt
from tests.e2e.conftest import OUTCOME_PAGE, accessibility_violations, page_problems, screenshot, sign_in
from tests.e2e.conftest import step_up_by_email as step_up
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
MERCHANT = "Veg Box Club"


def test_a_phone_saves_a_card_at_a_merchant_and_confirms_it_with_the_bank_s_code(
    browser: Any, live_server: Any, plain_http_settings: Any, alice: Cardholder, sandbox: SandboxServer
) -> None:
    context = browser.new_context(base_url=live_server.url, user_agent=ANDROID, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.console_errors = []
    try:
        sign_in(phone, alice.user.email)
        phone.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
        step_up(phone)
        phone.get_by_role("heading", name="Where should this card go?").wait_for()
        phone.get_by_label(re.compile(MERCHANT)).check()
        phone.get_by_role("button", name="Continue", exact=True).click()

        phone.get_by_role("heading", name=f"Save your card at {MERCHANT}").wait_for()
        screenshot(phone, "card-on-file-phone-merchant")
        phone.get_by_label("E-mail address").fill(alice.user.email)
        phone.get_by_label(re.compile("asks for a code from your bank")).check()
        phone.get_by_role("button", name="Save card").click()

        phone.get_by_role("heading", name="Confirm your card").wait_for()
        screenshot(phone, "card-on-file-phone-code")
        messages = requests.get(
            f"{sandbox.origin}/inbox/messages.json", params={"to": "Card ending 4444"}, timeout=5
        ).json()["messages"]
        code = re.search(r"is (\d{6})\.", messages[0]["body"])
        assert code
        phone.get_by_label("The code from your bank").fill(code.group(1))
        phone.get_by_role("button", name="Confirm", exact=True).click()

        phone.wait_for_url(OUTCOME_PAGE)
        screenshot(phone, "card-on-file-phone-result")
        assert phone.get_by_role("heading", level=1).inner_text() == f"Your Everyday Debit is saved at {MERCHANT}"
        assert "was confirmed there" in phone.locator("main").inner_text()
        assert accessibility_violations(phone) == []
        assert page_problems(phone) == []
        assert PushReceipt.objects.get().result == PushReceipt.Result.AUTHENTICATED
    finally:
        context.close()
