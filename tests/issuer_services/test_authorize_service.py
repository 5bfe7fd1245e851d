"""authorizeService over HTTP from the sandbox's MDES: the decision by the staff's rules, and what is recorded."""

from typing import Any

import pytest

from audit.models import AuditEvent
from cardholders.models import Card
from issuer_services.models import DecisionRules, TokenizationRequest
from provisioning.models import CardToken
from sandbox.issuer_services import PUSH_SOURCE, CardData
from tests.issuer_services.conftest import DEMOPAY

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_card_typed_in_by_hand_needs_the_cardholders_proof_and_is_recorded_pending(
    ask: Any, alice_card: Card
) -> None:
    answer = ask()

    assert answer.status == 200
    assert answer.body["decision"] == "REQUIRE_ADDITIONAL_AUTHENTICATION"
    assert answer.body["responseId"]
    assert answer.body["services"] == ["DIGITIZATION"]
    assert answer.body["cvcResponse"] == "NOT_PROCESSED"
    assert {m["type"] for m in answer.body["activationMethods"]} == {
        "EMAIL_TO_CARDHOLDER_ADDRESS",
        "CARDHOLDER_TO_VISIT_WEBSITE",
    }
    request = TokenizationRequest.objects.get()
    assert request.card == alice_card
    assert request.token_unique_reference == answer.sent["token_unique_reference"]
    assert request.correlation_id == answer.sent["correlation_id"]
    assert request.state == TokenizationRequest.State.PENDING
    assert "manual_add" in request.reasons
    token = CardToken.objects.get()
    assert (token.card, token.status, token.trid) == (alice_card, CardToken.Status.IN_PROGRESS, DEMOPAY)
    assert token.device_name == "Pixel 9 (sandbox)"
    assert AuditEvent.objects.filter(action="issuer_service.authorized").count() == 1


def test_a_push_from_the_portal_is_approved(ask: Any, alice_card: Card) -> None:
    DecisionRules.objects.update_or_create(pk=1, defaults={"push_must_match": False})

    answer = ask(source=PUSH_SOURCE)

    assert answer.body["decision"] == "APPROVED"
    assert answer.body["activationMethods"] == []
    assert TokenizationRequest.objects.get().reasons == ["push_from_portal"]


def test_an_unknown_card_is_declined_and_nothing_is_recorded_but_the_audit(ask: Any, alice_card: Card) -> None:
    answer = ask(CardData(account_number="5454545454545454", expiry_month="12", expiry_year="30"))

    assert answer.status == 200
    assert answer.body["decision"] == "DECLINED"
    assert answer.body["services"] == []
    assert not TokenizationRequest.objects.exists()
    assert not CardToken.objects.exists()
    event = AuditEvent.objects.get(action="issuer_service.authorized")
    assert (event.after or {})["reasons"] == ["unknown_card"]
    assert "5454545454545454" not in str(event.after)
