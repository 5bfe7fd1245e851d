"""What a new cardholder hit in the browser (issue 14): several cards through one step-up, codes that ran out,
the language switch, and what already happened to a card. The portal is the live server, MDES the sandbox."""

import re
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.formats import date_format

from cardholders.models import Cardholder
from landing.models import LandingPush
from landing.services import landing_link_mint
from provisioning.models import NetworkConfiguration, PushReceipt, PushRequest, TokenRequestor
from tests import factories
from tests.e2e.conftest import (
    OUTCOME_PAGE,
    accessibility_violations,
    page_problems,
    screenshot,
    sign_in,
    step_up_by_email,
)
from tests.provisioning.factories import PushFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_cards_chosen_together_stay_two_through_the_step_up(page: Any, alice: Cardholder) -> None:
    sign_in(page, alice.user.email)
    page.get_by_label(re.compile("Choose Everyday Debit")).check()
    page.get_by_label(re.compile("Choose Rewards")).check()
    page.get_by_role("button", name="Add the chosen cards together").click()
    step_up_by_email(page)
    page.get_by_role("heading", name="Where should these cards go?").wait_for()
    main = page.locator("main").inner_text()
    assert "Everyday Debit" in main
    assert "Rewards" in main
    page.get_by_label(re.compile("Sunday Store")).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Sunday Store").wait_for()  # the sandbox's simulated merchant page
    page.get_by_role("button", name=re.compile("Approve")).click()
    page.wait_for_url(OUTCOME_PAGE)
    assert PushReceipt.objects.filter(push=PushRequest.objects.get(), result="APPROVED").count() == 2
    assert accessibility_violations(page) == []
    assert page_problems(page) == []


def _confirmed(card: Any, requestor: TokenRequestor, result: str, link: Any = None) -> None:
    """A push of `card` to `requestor` that came back with `result`, as if the cardholder had gone through it."""
    push = PushFactory.create(card=card, token_requestor=requestor, state="redirected")
    push.transition_to("returned")
    push.save()
    if link is not None:
        LandingPush.objects.create(link=link, push=push)
    receipt = push.receipts.get()
    receipt.transition_to(PushReceipt.State.USED)
    receipt.result = result
    receipt.used_at = timezone.now()
    receipt.save()


def test_a_card_page_shows_each_wallet_once_and_marks_where_the_card_already_is(
    page: Any, wallets_ready: NetworkConfiguration
) -> None:
    minted = landing_link_mint(
        card=factories.GiftCardFactory.create(), purpose="gift", recipient_email="sam@example.test", actor_label="test"
    )
    demopay = TokenRequestor.objects.get(consumer_facing_name="DemoPay")
    _confirmed(minted.link.card, demopay, "APPROVED", minted.link)
    _confirmed(minted.link.card, demopay, "DUPLICATE_REQUEST", minted.link)
    page.goto(minted.url)
    page.get_by_role("heading", name="Already done with this card").wait_for()
    history = page.locator(".history-list > li").all_inner_texts()
    assert history == [f"Added: DemoPay, on {date_format(timezone.localdate(), 'DATE_FORMAT')}"], history
    assert "DemoPay (already there)" in page.locator("main").inner_text()
    screenshot(page, "bug5-landing-history")
    assert accessibility_violations(page) == []


def test_the_wallet_step_marks_wallets_the_card_is_in_and_preselects_another(page: Any, alice: Cardholder) -> None:
    debit = alice.cards.get(product_name="Everyday Debit")
    _confirmed(debit, TokenRequestor.objects.get(consumer_facing_name="DemoPay"), "APPROVED")
    sign_in(page, alice.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    step_up_by_email(page)
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    demopay = page.get_by_label(re.compile("DemoPay"))
    assert "Everyday Debit is already there" in demopay.evaluate("el => el.labels[0].innerText")
    assert not demopay.is_checked()
    assert page.get_by_label(re.compile("Sunday Store")).is_checked()
    assert accessibility_violations(page) == []


def test_pages_follow_the_browser_until_the_cardholder_chooses_a_language_and_then_keep_it(
    browser: Any, live_server: Any, plain_http_settings: Any, wallets_ready: NetworkConfiguration
) -> None:
    bea: Cardholder = factories.CardholderFactory.create(preferred_locale="")
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    german = context.new_page()
    german.console_errors = []
    try:
        german.goto("/accounts/login/")
        german.get_by_label("E-Mail").fill(bea.user.email)
        german.get_by_label("Passwort").fill(factories.TEST_PASSWORD)
        german.get_by_role("button", name="Anmelden").click()
        german.get_by_role("heading", name="Ihre Karten").wait_for()  # no choice made: the browser's language
        screenshot(german, "language-browser-de")
        german.get_by_role("button", name="English").click()
        german.get_by_role("heading", name="Your cards").wait_for()
        assert german.locator("html").get_attribute("lang") == "en"
        german.get_by_role("button", name="Sign out").click()
        sign_in(german, bea.user.email)  # a German browser, but the cardholder chose English
        german.get_by_role("heading", name="Your cards").wait_for()
        assert accessibility_violations(german) == []
    finally:
        context.close()
    bea.refresh_from_db()
    assert bea.preferred_locale == "en_US"


def _add_to_demopay(page: Any, product: str) -> None:
    page.goto("/")
    page.get_by_role("link", name=re.compile(f"Add {product}")).click()
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    page.get_by_label(re.compile("DemoPay")).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="DemoPay").wait_for()  # the sandbox's simulated wallet
    page.get_by_role("button", name=re.compile("Approve")).click()
    page.wait_for_url(OUTCOME_PAGE)


def test_one_code_covers_card_a_then_b_then_a_again(page: Any, alice: Cardholder) -> None:
    sign_in(page, alice.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    page.get_by_text("Everyday Debit •••• 4444").wait_for()  # the code page says which card it is for
    assert "next 5 minutes" in page.locator("main").inner_text()  # and how long one confirmation lasts
    step_up_by_email(page)
    page.get_by_role("heading", name="Where should this card go?").wait_for()
    for product in ("Everyday Debit", "Rewards", "Everyday Debit"):
        _add_to_demopay(page, product)
    assert len(mail.outbox) == 1
    assert PushRequest.objects.count() == 3


def test_when_no_more_codes_can_be_sent_the_page_says_when_instead_of_offering_send(
    page: Any, alice: Cardholder
) -> None:
    sign_in(page, alice.user.email)
    page.get_by_role("link", name=re.compile("Add Everyday Debit")).click()
    page.get_by_role("button", name="Send code").click()
    for _ in range(2):
        page.get_by_role("button", name="Send a new code").click()
    page.get_by_text(re.compile("You can ask for a new one in 10 minutes")).wait_for()
    assert page.get_by_role("button", name=re.compile("Send")).count() == 0
    screenshot(page, "step-up-no-more-codes")
    assert accessibility_violations(page) == []
    assert page_problems(page) == []
