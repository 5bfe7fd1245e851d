"""The sandbox's simulated wallet: a person types a card in, the sandbox's MDES asks the portal's issuer services
(over HTTP, signed, encrypted) and the page follows their answers to the end."""

import re
from typing import Any

import pytest
from django.core import mail

from cardholders.models import Card
from issuer_services.models import DecisionRules, TokenizationRequest
from provisioning.models import CardToken
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_services.conftest import inbox_messages
from tests.wallet import card_typed_in, wallet_form_post, wallet_method_index

pytestmark = pytest.mark.django_db(transaction=True)


def _code_in(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _sandbox_token(sandbox: SandboxServer) -> dict[str, Any]:
    [token] = sandbox.tokens()
    return token


def test_an_approved_card_is_added_and_the_portal_hears_it_is_active(wallet: SandboxServer) -> None:
    DecisionRules.objects.update_or_create(pk=1, defaults={"manual_decision": "APPROVED", "new_device_step_up": False})

    page = card_typed_in(wallet)

    assert page.status_code == 200
    assert "Card added to DemoPay" in page.text
    assert _sandbox_token(wallet)["CurrentStatusCode"] == "A"
    token = CardToken.objects.get()
    assert (token.status, token.device_name) == ("A", "Pixel 9 (sandbox)")


def test_an_unknown_card_is_not_added(wallet: SandboxServer) -> None:
    page = card_typed_in(wallet, number="5454 5454 5454 5454")

    assert "Your bank declined adding the card ending 5454" in page.text
    assert wallet.tokens() == []


def test_the_wallets_decline_recommendation_reaches_the_bank(wallet: SandboxServer) -> None:
    page = card_typed_in(wallet, recommendation="DECLINED")

    assert "Card not added" in page.text
    assert TokenizationRequest.objects.get().reasons == ["manual_add", "new_device", "wallet_declined"]


def test_a_code_by_e_mail_checked_by_the_bank_adds_the_card(wallet: SandboxServer) -> None:
    page = card_typed_in(wallet)
    assert "Confirm it is you" in page.text
    assert _sandbox_token(wallet)["CurrentStatusCode"] == "U"

    page = wallet_form_post(wallet, page, "method", method=wallet_method_index(page, "E-mail to a•••@demo.example"))
    assert "The code your bank sent" in page.text
    right = _code_in(str(mail.outbox[0].body))
    page = wallet_form_post(wallet, page, "code", code=_wrong(right))
    assert "That code is not right" in page.text
    page = wallet_form_post(wallet, page, "code", code=right)

    assert "Card added to DemoPay" in page.text
    assert _sandbox_token(wallet)["CurrentStatusCode"] == "A"
    assert CardToken.objects.get().status == "A"
    assert TokenizationRequest.objects.get().state == TokenizationRequest.State.ACTIVATED


def test_a_code_mdes_makes_arrives_by_text_is_resent_unchanged_and_checked_by_mdes(
    wallet: SandboxServer, inbox: SandboxServer
) -> None:
    page = card_typed_in(wallet, code_mode="mdes")
    page = wallet_form_post(wallet, page, "method", method=wallet_method_index(page, "Text message to ••• 5678"))
    page = wallet_form_post(wallet, page, "resend")
    assert "send the code again" in page.text

    first, second = (_code_in(message["body"]) for message in inbox_messages(inbox, "+15555555678"))
    assert first == second
    page = wallet_form_post(wallet, page, "code", code=first)

    assert "Card added to DemoPay" in page.text
    assert CardToken.objects.get().status == "A"


@pytest.mark.parametrize("code_mode", ["issuer", "mdes"])
def test_three_wrong_codes_end_it(wallet: SandboxServer, inbox: SandboxServer, code_mode: str) -> None:
    page = card_typed_in(wallet, code_mode=code_mode)
    page = wallet_form_post(wallet, page, "method", method=wallet_method_index(page, "Text message to ••• 5678"))
    right = _code_in(inbox_messages(inbox, "+15555555678")[0]["body"])

    for _ in range(3):
        page = wallet_form_post(wallet, page, "code", code=_wrong(right))

    assert "Too many wrong codes: the card was not added." in page.text
    assert CardToken.objects.get().status == "U"


def test_the_banks_website_is_offered_and_the_wallet_waits_for_its_approval(
    wallet: SandboxServer, live_server: Any
) -> None:
    page = card_typed_in(wallet)
    page = wallet_form_post(
        wallet, page, "method", method=wallet_method_index(page, "Approve it on your bank&#39;s website")
    )

    assert f'href="{live_server.url}/wallet-requests/"' in page.text
    page = wallet_form_post(wallet, page, "check")
    assert "Your bank has not approved it yet." in page.text


def test_card_details_that_are_not_a_card_are_refused_on_the_page(wallet: SandboxServer) -> None:
    page = card_typed_in(wallet, number="1234", security_code="12")

    assert page.status_code == 400
    assert "The card number is 12 to 19 digits." in page.text
    assert "The security code is the three digits on the back." in page.text
    assert not TokenizationRequest.objects.exists()


def test_without_the_banks_address_the_wallet_says_so(sandbox: SandboxServer, alice_card: Card) -> None:
    page = card_typed_in(sandbox)

    assert "The sandbox does not know where the issuer&#39;s services are." in page.text
