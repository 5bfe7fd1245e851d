"""The Wallet requests page in Chromium: a person types their card into the sandbox's wallet and chooses to approve
on the bank's website; the wallet's link opens the portal, they sign in, pass a second factor and approve (or
decline); the sandbox's Customer Service API then holds the token active (or deleted) and the wallet says so.

Screenshots land in test-artifacts/wallet-request-*.png for a person to look at.
"""

from typing import Any

import pytest

from cardholders.models import Card
from issuer_services.models import TokenizationRequest
from provisioning.models import CardToken, NetworkConfiguration
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot, sign_in, step_up_by_email
from tests.fixtures.issuer_services import DEMOPAY, PREFIX
from tests.fixtures.sandbox_server import SandboxServer, point_at_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wallet(
    sandbox: SandboxServer,
    issuer_services_on: Any,
    live_server: Any,
    alice_card: Card,
    sandbox_configuration: NetworkConfiguration,
) -> SandboxServer:
    """The sandbox knows the portal's issuer services, and the portal's Customer Service API is the sandbox's."""
    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    point_at_sandbox(NetworkConfiguration.objects.get(is_active=True), sandbox_configuration)
    return sandbox


def _typed_in_waiting_for_the_bank(page: Any, wallet: SandboxServer) -> str:
    """The card typed into DemoPay, "Approve it on your bank's website" chosen; returns the wallet page's address."""
    page.goto(f"{wallet.origin}/wallet/{DEMOPAY}/add-card")
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_label("Expiry month (MM)").fill("12")
    page.get_by_label("Expiry year (YY)").fill("30")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Add card").click()
    page.get_by_label("Approve it on your bank's website").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="I approved it").wait_for()
    return str(page.url)


def _to_the_banks_page_signed_in(page: Any) -> None:
    page.get_by_role("link", name="your bank's page of wallet requests").click()
    sign_in(page, "alice@demo.example")
    page.get_by_role("heading", name="Wallet requests").wait_for()


def _sandbox_status(wallet: SandboxServer) -> str:
    [token] = wallet.tokens()
    return str(token["CurrentStatusCode"])


def test_the_cardholder_approves_on_the_wallet_requests_page_and_the_wallet_adds_the_card(
    page: Any, wallet: SandboxServer
) -> None:
    wallet_page = _typed_in_waiting_for_the_bank(page, wallet)
    screenshot(page, "wallet-request-wallet-waits")

    _to_the_banks_page_signed_in(page)
    page.get_by_role("heading", name="DemoPay wants to add your card •••• 4444").wait_for()
    screenshot(page, "wallet-request-list")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Approve").click()
    step_up_by_email(page, before_the_code=lambda: screenshot(page, "wallet-request-step-up"))
    page.get_by_role("heading", name="Add your card to DemoPay?").wait_for()
    screenshot(page, "wallet-request-approve")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved: Everyday Debit •••• 4444 is ready to use in DemoPay.").wait_for()
    screenshot(page, "wallet-request-approved")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []

    assert _sandbox_status(wallet) == "A"
    assert CardToken.objects.get().status == CardToken.Status.ACTIVE
    assert TokenizationRequest.objects.get().state == TokenizationRequest.State.ACTIVATED
    page.goto(wallet_page)
    page.get_by_role("button", name="I approved it").click()
    page.get_by_role("heading", name="Card added to DemoPay").wait_for()
    screenshot(page, "wallet-request-wallet-added")


def test_the_cardholder_declines_and_the_wallet_does_not_add_the_card(page: Any, wallet: SandboxServer) -> None:
    wallet_page = _typed_in_waiting_for_the_bank(page, wallet)
    _to_the_banks_page_signed_in(page)
    page.get_by_role("button", name="Decline").click()
    step_up_by_email(page)
    page.get_by_role("heading", name="Decline the request of DemoPay?").wait_for()
    page.get_by_role("button", name="Decline").click()
    page.get_by_text("Declined: Everyday Debit •••• 4444 was not added to DemoPay.").wait_for()
    screenshot(page, "wallet-request-declined")
    assert page.get_by_text("No wallet request is waiting for you.").is_visible()

    assert _sandbox_status(wallet) == "D"
    page.goto(wallet_page)
    page.get_by_role("button", name="I approved it").click()
    page.get_by_text("You declined this request with your bank.").wait_for()
    screenshot(page, "wallet-request-wallet-declined")
