"""Streamlined activation in Chromium: DemoPay leaves the activation to the issuer (completeWebsiteActivation=false),
its wallet page answers REQUIRE_ADDITIONAL_AUTHENTICATION, and the portal activates the card on the way back.

Screenshots: test-artifacts/streamlined-activation-added.png, test-artifacts/streamlined-activation-not-yet.png.
"""

import re
from collections.abc import Callable
from typing import Any

import pytest

from cardholders.models import Cardholder
from provisioning.models import PushReceipt, TokenRequestor
from tests.e2e.conftest import (
    OUTCOME_PAGE,
    accessibility_violations,
    page_problems,
    screenshot,
    sign_in,
    step_up_by_email,
)
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def streamlined(alice: Cardholder) -> Cardholder:
    TokenRequestor.objects.filter(consumer_facing_name="DemoPay").update(complete_website_activation=False)
    return alice


def _push_and_require_proof(page: Any, email: str, before_deciding: Callable[[], object] = lambda: None) -> str:
    sign_in(page, email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    step_up_by_email(page)
    page.get_by_label(re.compile("DemoPay")).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="DemoPay").wait_for()  # the sandbox's simulated wallet
    assert "false" in page.locator("dl.details").inner_text()  # completeWebsiteActivation, as MDES signed it
    before_deciding()
    page.get_by_role("button", name="Require additional authentication").click()
    page.wait_for_url(OUTCOME_PAGE)
    assert accessibility_violations(page) == []
    assert page_problems(page) == []
    return str(page.get_by_role("heading", level=1).inner_text())


def test_the_card_the_wallet_left_waiting_is_activated_and_shown_added(
    page: Any, streamlined: Cardholder, sandbox: SandboxServer
) -> None:
    heading = _push_and_require_proof(page, streamlined.user.email)

    screenshot(page, "streamlined-activation-added")
    assert heading == "Your Everyday Debit is in DemoPay"
    assert "is now in DemoPay" in page.locator("main").inner_text()
    [token] = sandbox.tokens()
    assert token["CurrentStatusCode"] == "A"


def test_when_the_network_does_not_answer_the_page_says_the_card_is_not_active_yet(
    page: Any, streamlined: Cardholder, sandbox: SandboxServer
) -> None:
    # The network's check when the browser comes back fails.
    heading = _push_and_require_proof(page, streamlined.user.email, lambda: sandbox.fail_next(503))

    screenshot(page, "streamlined-activation-not-yet")
    assert heading == "Your Everyday Debit is not active in DemoPay yet"
    assert "You do not need to do anything" in page.locator("main").inner_text()
    assert PushReceipt.objects.get().activation == PushReceipt.Activation.DUE
