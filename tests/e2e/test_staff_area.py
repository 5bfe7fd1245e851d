"""Issuer staff in Chromium: sign in with the second factor, disable and reorder requestors, see the cardholder
page follow; screenshots of the requestor list and the dashboard."""

import re
import time
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from cardholders.models import Cardholder
from provisioning import refresh
from provisioning.models import NetworkConfiguration, TokenRequestor
from tests import factories
from tests.e2e.conftest import page_problems, screenshot, sign_in, totp_now
from tests.provisioning.factories import PushFactory
from users.step_up import SESSION_KEY, SESSION_USER_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def _wallet_names(page: Any) -> list[str]:
    return [name.strip() for name in page.locator(".requestor-name").all_inner_texts()]


def test_staff_disable_and_reorder_requestors_and_the_cardholder_page_follows(
    browser: Any, live_server: Any, plain_http_settings: Any, page: Any, sandbox_network_config: NetworkConfiguration
) -> None:
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True, display_order=5)
    TokenRequestor.objects.filter(consumer_facing_name="DemoPay").update(display_order=1)
    TokenRequestor.objects.filter(consumer_facing_name="Sunday Store").update(display_order=2)
    cardholder: Cardholder = factories.CardholderFactory.create()
    card = factories.CardFactory.create(cardholder=cardholder)

    # The cardholder, in a browser of their own, already stepped up (tested elsewhere).
    shopper_context = browser.new_context(base_url=live_server.url)
    shopper = shopper_context.new_page()
    sign_in(shopper, cardholder.user.email)
    session_cookie = next(c for c in shopper_context.cookies() if c["name"] == "sessionid")
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore(session_key=session_cookie["value"])
    session[SESSION_KEY] = time.time()
    session[SESSION_USER_KEY] = cardholder.user.pk
    session.save()
    shopper.goto(f"/wallets/?card={card.public_id}")
    before = _wallet_names(shopper)
    assert before.index("DemoPay") < before.index("Sunday Store")

    secret = generate_totp_secret()
    staff = factories.StaffUserFactory.create()
    TOTP.activate(staff, secret)
    page.goto("/admin/")
    sign_in(page, staff.email)
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Token requestors").first.click()
    screenshot(page, "staff-token-requestors")
    demopay = TokenRequestor.objects.get(consumer_facing_name="DemoPay")
    store = TokenRequestor.objects.get(consumer_facing_name="Sunday Store")
    page.locator(f"#id_form-{_row(page, demopay.pk)}-offered").uncheck()
    page.locator(f"#id_form-{_row(page, store.pk)}-display_order").fill("0")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(re.compile("were changed successfully|was changed successfully")).wait_for()
    assert page_problems(page) == []

    shopper.reload()
    after = _wallet_names(shopper)
    assert "DemoPay" not in after
    assert after[0] == "Sunday Store"

    for _ in range(3):
        PushFactory.create(card=card, token_requestor=store, state="redirected")
    page.goto("/admin/dashboard/")
    page.get_by_role("heading", name=re.compile("Funnel")).wait_for()
    screenshot(page, "staff-dashboard")
    assert page_problems(page) == []
    shopper_context.close()


def _row(page: Any, pk: int) -> int:
    """The index of the changelist form row holding the requestor with this primary key."""
    ids = page.locator("input[name$='-id']").evaluate_all("inputs => inputs.map(i => i.value)")
    return [int(value) for value in ids].index(pk)


def test_staff_send_a_gift_card_by_link_and_the_recipient_opens_it(
    browser: Any, live_server: Any, page: Any, sandbox_network_config: NetworkConfiguration, settings: Any
) -> None:
    settings.PORTAL_BASE_URL = live_server.url
    gift = factories.GiftCardFactory.create()
    secret = generate_totp_secret()
    staff = factories.StaffUserFactory.create()
    TOTP.activate(staff, secret)
    page.goto("/admin/")
    sign_in(page, staff.email)
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/")

    page.goto("/admin/cardholders/card/")
    page.get_by_role("row", name=re.compile("Sunny Gift Card")).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option("send_by_landing_link")
    page.get_by_role("button", name="Go").click()
    page.get_by_label("Recipient email").fill("sam@example.test")
    page.get_by_label("Message").fill("Happy birthday, Sam!")
    page.get_by_label("Deliver").uncheck()
    screenshot(page, "staff-landing-mint")
    page.get_by_role("button", name="Mint link").click()
    page.get_by_text("This is the only time the link is shown.").wait_for()
    screenshot(page, "staff-landing-minted")
    assert page_problems(page) == []
    link = page.get_by_label("Link").input_value()
    assert link.startswith(f"{live_server.url}/card/open/")
    assert gift.landing_links.get().created_by == staff

    recipient_context = browser.new_context(base_url=live_server.url)
    recipient = recipient_context.new_page()
    recipient.goto(link)
    recipient.get_by_role("heading", name="You have a gift card").wait_for()
    assert "Happy birthday, Sam!" in recipient.locator("main").inner_text()
    recipient_context.close()
