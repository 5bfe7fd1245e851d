"""`wallet_request.pending`: MDES's authorizeService (over HTTP from the sandbox) leaves a request waiting for the
cardholder, and the issuer's app backend hears of it once, with what the app needs and no card number."""

from typing import Any

import pytest

from cardholders.models import Card
from issuer_services.models import DecisionRules, TokenizationRequest
from sandbox.issuer_services import PUSH_SOURCE, CardData, IssuerServicesClient
from tests.fixtures.issuer_services import DEMOPAY
from tests.issuer_services.conftest import new_reference
from tests.webhooks.conftest import Receiver
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_backend(webhooks_on: Receiver, tasks_in_process: None) -> Receiver:
    return webhooks_on


def test_a_request_left_pending_by_authorize_service_is_sent_to_the_app_backend(
    app_backend: Receiver, ask: Any, alice_card: Card, alice_data: CardData
) -> None:
    answer = ask()

    assert answer.body["decision"] == "REQUIRE_ADDITIONAL_AUTHENTICATION"
    (received,) = app_backend.wait_for(1)
    request = TokenizationRequest.objects.get()
    assert received.signed
    assert received.headers["X-Event-Type"] == "wallet_request.pending"
    assert received.event["data"] == {
        "wallet_request_id": str(request.public_id),
        "wallet_name": "DemoPay",
        "device_name": "Pixel 9 (sandbox)",
        "card_id": str(alice_card.public_id),
        "card_last_four": alice_card.last_four,
        "expires_at": request.expires_at.isoformat(),
    }
    body = received.body.decode()
    assert alice_data.account_number not in body
    assert alice_card.cardholder is not None
    assert alice_card.cardholder.user.email not in body
    assert alice_card.cardholder.phone_number not in body
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.DELIVERED


def test_mdes_asking_again_about_the_same_token_sends_nothing_more(
    app_backend: Receiver, ask: Any, alice_card: Card
) -> None:
    reference = new_reference()

    ask(token_unique_reference=reference)
    ask(token_unique_reference=reference)

    assert len(app_backend.wait_for(2, timeout=2)) == 1
    assert WebhookDelivery.objects.count() == 1


def test_an_approved_or_declined_request_sends_nothing(
    app_backend: Receiver, ask: Any, alice_card: Card, alice_data: CardData
) -> None:
    DecisionRules.objects.update_or_create(pk=1, defaults={"push_must_match": False})

    assert ask(source=PUSH_SOURCE).body["decision"] == "APPROVED"
    assert (
        ask(CardData(account_number=alice_data.account_number, expiry_month="01", expiry_year="29")).body["decision"]
        == "DECLINED"
    )

    assert not WebhookDelivery.objects.exists()
    assert app_backend.wait_for(1, timeout=1) == []


def test_a_request_mdes_made_pending_by_its_own_rules_is_sent_too(
    app_backend: Receiver, mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData
) -> None:
    answer = mdes.request_activation_methods(
        alice_data,
        token_unique_reference=new_reference(),
        correlation_id="C1",
        token_requestor_id=DEMOPAY,
        consumer_facing_name="DemoPay",
    )

    assert answer.status == 200, answer.body
    (received,) = app_backend.wait_for(1)
    request = TokenizationRequest.objects.get()
    assert request.reasons == ["decided_by_network"]
    assert received.event["data"]["wallet_request_id"] == str(request.public_id)
