"""Every cardholder page on a desktop, an Android phone and an iPhone, in English and German, saved to
test-artifacts/ for a person to look at (screens-<device>-<language>-<page>.png); each page also axe-checked and
free of sideways scrolling. The step-up proof is put into the browser's session directly (the code flow itself
is driven in test_push_flow and test_cardholder_pages), so that one run covers every page quickly."""

import secrets
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from cardholders.models import Cardholder
from issuer_services.models import Decision, TokenizationRequest
from landing.services import landing_link_mint
from provisioning import refresh
from provisioning.models import CardToken, NetworkConfiguration, PushReceipt, TokenRequestor
from tests import factories
from tests.e2e.conftest import accessibility_violations, page_problems, screenshot
from tests.provisioning.factories import CardTokenFactory, PushFactory
from users import step_up

pytestmark = pytest.mark.django_db(transaction=True)

DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "android": {
        "viewport": {"width": 412, "height": 915},
        "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "iphone": {
        "viewport": {"width": 390, "height": 844},
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 "
        "Mobile/15E148",
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
LANGUAGES = {"en": "en-US", "de": "de-DE"}


@pytest.fixture
def shown(sandbox_network_config: NetworkConfiguration, live_server: Any, settings: Any) -> dict[str, Any]:
    settings.PORTAL_BASE_URL = live_server.url
    sandbox_network_config.callback_base_url = live_server.url
    sandbox_network_config.save()
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    cardholder: Cardholder = factories.CardholderFactory.create(preferred_locale="")
    debit = factories.CardFactory.create(cardholder=cardholder)
    factories.CardFactory.create(
        cardholder=cardholder,
        card_number=factories.TEST_CARD_NUMBERS[1],
        product_name="Rewards Credit",
        product_kind="credit",
    )
    push = PushFactory.create(
        card=debit, token_requestor=TokenRequestor.objects.get(consumer_facing_name="DemoPay"), state="redirected"
    )
    push.transition_to("returned")
    push.save()
    receipt = push.receipts.get()
    receipt.transition_to(PushReceipt.State.USED)
    receipt.result = PushReceipt.Result.APPROVED
    receipt.used_at = timezone.now()
    receipt.save()
    in_demopay = CardTokenFactory.create(card=debit, token_requestor=push.token_requestor)
    paused_by_bank = CardTokenFactory.create(
        card=debit,
        token_requestor=TokenRequestor.objects.get(consumer_facing_name="Sunday Store"),
        device_name="",
        device_type="",
        status=CardToken.Status.SUSPENDED,
        suspenders=["I"],
    )
    CardTokenFactory.create(card=debit, device_name="Old phone", status=CardToken.Status.DELETED)
    wallet_request = _wallet_request(debit, "DemoPay", hours_left=20)
    _wallet_request(debit, "DemoPay", hours_left=-30, device_name="Old tablet")
    program = factories.ProgramFactory.create(name="Sunny Gifts", brand_colour="ember")
    gift = landing_link_mint(
        card=factories.GiftCardFactory.create(program=program),
        purpose="gift",
        recipient_email="sam@example.test",
        message="Happy birthday, Sam!",
        actor_label="test",
    )
    return {
        "cardholder": cardholder,
        "debit": debit,
        "push": push,
        "gift_url": gift.url,
        "in_demopay": in_demopay,
        "paused_by_bank": paused_by_bank,
        "wallet_request": wallet_request,
        "click_to_pay": TokenRequestor.objects.get(trid="50100000033"),
    }


def _wallet_request(card: Any, wallet: str, *, hours_left: int, device_name: str = "Pixel 9") -> TokenizationRequest:
    """A card typed into `wallet` by hand, waiting for the cardholder's proof (`hours_left` < 0: expired)."""
    requestor = TokenRequestor.objects.filter(consumer_facing_name=wallet).order_by("trid").first()
    assert requestor is not None
    return TokenizationRequest.objects.create(
        token_unique_reference=f"DSHOT{secrets.token_hex(20).upper()}",
        correlation_id="1" * 14,
        request_id=secrets.token_hex(8),
        card=card,
        token_requestor=requestor,
        trid=requestor.trid,
        consumer_facing_name=wallet,
        device_name=device_name,
        decision=Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
        state=TokenizationRequest.State.PENDING,
        expires_at=timezone.now() + timedelta(hours=hours_left),
    )


def _step_up_in_session(context: Any, user_pk: int) -> None:
    """What passing the step-up leaves in the session (users.step_up._passed)."""
    key = next(c["value"] for c in context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    session[step_up.SESSION_KEY] = time.time()
    session[step_up.SESSION_USER_KEY] = user_pk
    session.save()


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("device", list(DEVICES))
def test_every_cardholder_page(
    browser: Any, live_server: Any, plain_http_settings: Any, shown: dict[str, Any], device: str, language: str
) -> None:
    context = browser.new_context(base_url=live_server.url, locale=LANGUAGES[language], **DEVICES[device])
    page = context.new_page()
    page.console_errors = []
    page.on("response", lambda r: page.console_errors.extend([f"HTTP {r.status} {r.url}"] if r.status >= 400 else []))
    findings: dict[str, list[str]] = {}
    widths: dict[str, int] = {}

    def look(name: str) -> None:
        page.wait_for_load_state("load")
        screenshot(page, f"screens-{device}-{language}-{name}")
        findings[name] = accessibility_violations(page) + page_problems(page)
        widths[name] = page.evaluate("document.documentElement.scrollWidth")

    try:
        page.goto("/")
        look("welcome")
        page.goto("/accounts/login/")
        look("sign-in")
        page.fill("input[name=login]", shown["cardholder"].user.email)
        page.fill("input[name=password]", factories.TEST_PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server.url}/")
        look("cards")
        if device != "desktop":
            page.locator(".menu-button").click()
            look("cards-menu-open")
            page.keyboard.press("Escape")
        page.goto(f"/wallets/?card={shown['debit'].public_id}")
        look("step-up")
        _step_up_in_session(context, shown["cardholder"].user.pk)
        page.goto(f"/wallets/?card={shown['debit'].public_id}")
        look("wallets")
        cards = "&".join(f"card={card.public_id}" for card in shown["cardholder"].cards.all())
        page.goto(f"/wallets/?{cards}")
        look("wallets-two-cards")
        page.goto(f"/push/{shown['push'].public_id}/")
        look("outcome")
        page.goto(f"/places/{shown['in_demopay'].public_id}/pause/")
        look("token-pause")
        page.goto(f"/places/{shown['in_demopay'].public_id}/remove/")
        look("token-remove")
        page.goto(f"/places/{shown['paused_by_bank'].public_id}/resume/")
        look("token-resume-paused-by-bank")
        click_to_pay = f"card={shown['debit'].public_id}&token_requestor={shown['click_to_pay'].pk}"
        page.goto(f"/click-to-pay/?{click_to_pay}")
        look("click-to-pay-review")
        page.goto("/wallet-requests/")
        look("wallet-requests")
        page.goto(f"/wallet-requests/{shown['wallet_request'].public_id}/approve/")
        look("wallet-request-approve")
        page.goto(shown["gift_url"])
        look("landing-gift")
    finally:
        context.close()
    assert {name: found for name, found in findings.items() if found} == {}
    assert {name: width for name, width in widths.items() if width > DEVICES[device]["viewport"]["width"]} == {}
