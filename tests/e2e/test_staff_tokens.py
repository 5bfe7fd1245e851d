"""Issuer staff in Chromium on tokens: from the card's page to its tokens at the network, then suspending one with a
reason and a comment; looking up a token the portal does not know. Screenshots of the list, the form, the token after
the change and the look-up."""

import re
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from cardholders.models import Cardholder
from provisioning.models import CardToken
from tests import factories
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot, sign_in, totp_now
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)

DEMOPAY = "50100000011"


def test_staff_find_a_cards_tokens_and_suspend_one_with_reason_and_comment(
    page: Any, alice: Cardholder, sandbox: SandboxServer
) -> None:
    card = alice.cards.get(product_name="Everyday Debit")
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0],
        tokenRequestorId=DEMOPAY,
        deviceName="Alice's phone",
        deviceType="21",
    )
    secret = generate_totp_secret()
    # A superuser: the roles' groups come from a data migration that transactional tests flush (roles are
    # pinned in tests/provisioning/test_token_admin.py).
    staff = factories.StaffUserFactory.create(first_name="Olga", last_name="Operator")
    TOTP.activate(staff, secret)
    page.goto("/admin/")
    sign_in(page, staff.email)
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/")

    page.goto(f"/admin/cardholders/card/{card.pk}/change/")
    page.get_by_role("link", name="Tokens of this card").click()
    page.get_by_role("button", name="Ask the card network now").click()
    page.get_by_text("The card network was asked just now for the tokens of Everyday Debit").wait_for()
    screenshot(page, "staff-card-tokens")
    assert page_problems(page) == []

    page.get_by_role("link", name="DemoPay", exact=True).click()
    page.get_by_role("heading", name="Status history at the card network").wait_for()
    page.get_by_role("link", name="Suspend…").click()
    page.get_by_label("The device was lost").check()
    page.get_by_role("textbox", name="Comment").fill("Cardholder called: phone lost on the train")
    screenshot(page, "staff-token-suspend")
    assert page_problems(page) == []
    assert accessibility_violations(page) == []
    page.console_errors.clear()  # axe's own injected styles, which the CSP blocks: not the page's
    page.get_by_role("button", name="Suspend at the card network").click()

    page.get_by_text(re.compile("Suspended at the card network: DemoPay on Alice's phone")).wait_for()
    screenshot(page, "staff-token-suspended")
    assert page_problems(page) == []
    history = page.locator(".token-history").inner_text()
    assert "Suspended" in history
    assert "Olga Operator" in history
    token = CardToken.objects.get(card=card)
    assert token.status == CardToken.Status.SUSPENDED
    assert token.suspended_by == {CardToken.Party.ISSUER}
    network = next(t for t in sandbox.tokens() if t["TokenUniqueReference"] == token.token_unique_reference)
    assert network["CurrentStatusCode"] == "S"


def test_staff_look_up_a_token_the_portal_does_not_know(page: Any, alice: Cardholder, sandbox: SandboxServer) -> None:
    stranger = sandbox.create_token(
        accountNumber="5454545454545454", tokenRequestorId=DEMOPAY, deviceName="A watch", deviceType="23"
    )
    secret = generate_totp_secret()
    staff = factories.StaffUserFactory.create(first_name="Aude", last_name="Auditor")
    TOTP.activate(staff, secret)
    page.goto("/admin/provisioning/cardtoken/")
    sign_in(page, staff.email)
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/provisioning/cardtoken/")

    page.get_by_role("link", name="Find tokens at the card network").click()
    page.get_by_label("Token unique reference").fill(stranger["TokenUniqueReference"])
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("heading", name="What the card network says").wait_for()
    screenshot(page, "staff-token-find")
    assert page_problems(page) == []
    assert "•••• 5454" in page.locator(".token-found").inner_text()
    assert not CardToken.objects.exists()
