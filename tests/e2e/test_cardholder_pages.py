"""What a new cardholder hit in the browser (issue 14): several cards through one step-up, codes that ran out,
the language switch, and what already happened to a card. The portal is the live server, MDES the sandbox."""

import re
from typing import Any

import pytest
from django.core import mail

from cardholders.models import Cardholder
from provisioning import refresh
from provisioning.models import NetworkConfiguration, PushReceipt, PushRequest, TokenRequestor
from tests import factories
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wallets_ready(sandbox_network_config: NetworkConfiguration, live_server: Any) -> NetworkConfiguration:
    sandbox_network_config.callback_base_url = live_server.url
    sandbox_network_config.save()
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    return sandbox_network_config


@pytest.fixture
def alice(wallets_ready: NetworkConfiguration) -> Cardholder:
    cardholder: Cardholder = factories.CardholderFactory.create()
    factories.make_card(cardholder=cardholder)
    factories.make_card(cardholder=cardholder, card_number=factories.TEST_CARD_NUMBERS[1], product_name="Rewards")
    return cardholder


def _confirm_by_email(page: Any) -> None:
    page.get_by_label(re.compile("E-mail to")).check()
    page.get_by_role("button", name="Send code").click()
    page.get_by_label(re.compile("The code we sent")).wait_for()
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code
    page.get_by_label(re.compile("The code we sent")).fill(code.group(1))
    page.get_by_role("button", name="Confirm").click()


def test_two_cards_chosen_together_stay_two_through_the_step_up(page: Any, alice: Cardholder) -> None:
    sign_in(page, alice.user.email)
    page.get_by_label(re.compile("Choose Everyday Debit")).check()
    page.get_by_label(re.compile("Choose Rewards")).check()
    page.get_by_role("button", name="Add the chosen cards together").click()
    _confirm_by_email(page)
    page.get_by_role("heading", name="Where should these cards go?").wait_for()
    main = page.locator("main").inner_text()
    assert "Everyday Debit" in main and "Rewards" in main
    page.get_by_label(re.compile("Sunday Store")).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Sunday Store").wait_for()  # the sandbox's simulated merchant page
    page.get_by_role("button", name=re.compile("Approve")).click()
    page.get_by_role("heading", name=re.compile("Sunday Store")).wait_for()
    assert PushReceipt.objects.filter(push=PushRequest.objects.get(), result="APPROVED").count() == 2
    assert accessibility_violations(page) == []
    assert page_problems(page) == []
