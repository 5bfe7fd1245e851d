"""authorizeService over HTTP from the sandbox's MDES: the decision by the staff's rules, and what is recorded."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from issuer_services.models import DecisionRules, TokenizationRequest
from issuer_services.selectors import tokenization_requests_pending
from provisioning.models import CardToken
from sandbox.crypto import encrypt_envelope
from sandbox.issuer_services import PUSH_SOURCE, CardData, Device, IssuerServicesClient
from tests import factories
from tests.fixtures.issuer_services import DEMOPAY
from tests.issuer_services.conftest import new_reference
from tests.provisioning.factories import PushFactory, TokenRequestorFactory

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


# --- the rules, one at a time (DecisionRules' defaults unless a test changes them) --------------------------------
def _rules(**values: Any) -> None:
    DecisionRules.objects.update_or_create(pk=1, defaults=values)


@pytest.fixture
def pushed(alice_card: Card) -> None:
    """The portal pushed Alice's card to DemoPay a moment ago."""
    PushFactory.create(card=alice_card, token_requestor=TokenRequestorFactory.create(trid=DEMOPAY))


def _decided(answer: Any) -> tuple[str, list[str]]:
    assert answer.status == 200, answer.body
    request = TokenizationRequest.objects.get(token_unique_reference=answer.reference)
    assert request.decision == answer.body["decision"]
    return answer.body["decision"], request.reasons


def test_a_push_the_portal_made_is_approved(ask: Any, pushed: None) -> None:
    assert _decided(ask(source=PUSH_SOURCE)) == ("APPROVED", ["push_from_portal"])


def test_a_push_the_portal_did_not_make_is_treated_as_typed_in(ask: Any, alice_card: Card) -> None:
    assert _decided(ask(source=PUSH_SOURCE)) == ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["push_not_found", "new_device"])


@pytest.mark.parametrize("state", [Card.State.CLOSED, Card.State.SUSPENDED])
def test_a_card_that_is_not_active_is_declined(ask: Any, pushed: None, alice_card: Card, state: str) -> None:
    alice_card.transition_to(state)
    alice_card.save()

    answer = ask(source=PUSH_SOURCE)

    assert _decided(answer) == ("DECLINED", ["card_not_active"])
    assert answer.body["activationMethods"] == []
    assert not CardToken.objects.exists()


def test_a_wrong_expiry_date_is_declined(ask: Any, alice_card: Card, alice_data: CardData) -> None:
    answer = ask(replace(alice_data, expiry_year="29"))

    assert _decided(answer) == ("DECLINED", ["expiry_mismatch"])


@pytest.mark.parametrize(
    ("decisioning", "rules", "expected"),
    [
        ({"recommendedDecision": "DECLINED"}, {}, ("DECLINED", ["push_from_portal", "wallet_declined"])),
        ({"recommendedDecision": "DECLINED"}, {"follow_wallet_decline": False}, ("APPROVED", ["push_from_portal"])),
        (
            {"recommendedDecision": "REQUIRE_ADDITIONAL_AUTHENTICATION"},
            {},
            ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["push_from_portal", "wallet_step_up"]),
        ),
        ({"deviceScore": "2"}, {}, ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["push_from_portal", "low_device_score"])),
        ({"deviceScore": "3"}, {}, ("APPROVED", ["push_from_portal"])),
        (
            {"deviceScore": "1"},
            {"device_score_decline_below": 2},
            ("DECLINED", ["push_from_portal", "low_device_score"]),
        ),
        ({"deviceScore": "1"}, {"device_score_step_up_below": 0}, ("APPROVED", ["push_from_portal"])),
        ({"accountScore": "2"}, {}, ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["push_from_portal", "low_account_score"])),
        (
            {"accountScore": "2"},
            {"account_score_decline_below": 3},
            ("DECLINED", ["push_from_portal", "low_account_score"]),
        ),
        ({"deviceScore": "not a score"}, {}, ("APPROVED", ["push_from_portal"])),
    ],
    ids=[
        "wallet-declines",
        "wallet-declines-ignored",
        "wallet-asks-for-proof",
        "low-device-score",
        "device-score-at-threshold",
        "very-low-device-score-declines",
        "device-score-rule-off",
        "low-account-score",
        "low-account-score-declines",
        "unreadable-score",
    ],
)
def test_the_wallets_word_raises_a_pushs_approval(
    ask: Any, pushed: None, decisioning: dict[str, str], rules: dict[str, Any], expected: tuple[str, list[str]]
) -> None:
    _rules(**rules)

    assert _decided(ask(source=PUSH_SOURCE, decisioning=decisioning)) == expected


def _live_tokens(card: Card, count: int) -> None:
    for number in range(count):
        CardToken.objects.create(
            card=card, token_unique_reference=f"LIVE{number:044d}", status="A", trid=DEMOPAY, checked_at=timezone.now()
        )


@pytest.mark.parametrize(
    ("live", "rules", "expected"),
    [
        (4, {}, ("APPROVED", ["push_from_portal"])),
        (5, {}, ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["push_from_portal", "many_active_tokens"])),
        (3, {"active_tokens_decline_at": 3}, ("DECLINED", ["push_from_portal", "many_active_tokens"])),
    ],
    ids=["below", "at-the-step-up-threshold", "at-the-decline-threshold"],
)
def test_many_live_tokens_raise_the_decision(
    ask: Any, pushed: None, alice_card: Card, live: int, rules: dict[str, Any], expected: tuple[str, list[str]]
) -> None:
    _live_tokens(alice_card, live)
    _rules(**rules)

    assert _decided(ask(source=PUSH_SOURCE)) == expected


def test_mdes_count_of_active_tokens_counts_too(ask: Any, pushed: None) -> None:
    assert _decided(ask(source=PUSH_SOURCE, active_token_count=7))[1] == ["push_from_portal", "many_active_tokens"]


def _on_device(card: Card, device_name: str) -> None:
    CardToken.objects.create(
        card=card,
        token_unique_reference="KNOWN" + "0" * 43,
        status="A",
        device_name=device_name,
        checked_at=timezone.now(),
    )


def test_a_new_device_needs_proof_even_when_typed_in_cards_are_approved(ask: Any, alice_card: Card) -> None:
    _rules(manual_decision="APPROVED")

    assert _decided(ask()) == ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["manual_add", "new_device"])


def test_a_device_another_card_of_the_cardholder_is_on_is_not_new(ask: Any, alice_card: Card) -> None:
    other = factories.CardFactory.create(cardholder=alice_card.cardholder, card_number=factories.TEST_CARD_NUMBERS[1])
    _on_device(other, "Pixel 9 (sandbox)")
    _rules(manual_decision="APPROVED")

    assert _decided(ask()) == ("APPROVED", ["manual_add"])


def test_typed_in_cards_can_be_declined_outright(ask: Any, alice_card: Card) -> None:
    _rules(manual_decision="DECLINED")

    assert _decided(ask())[0] == "DECLINED"


@pytest.mark.parametrize(
    ("device", "scores", "expected"),
    [
        ("Pixel 9 (sandbox)", ("5", "4"), ("APPROVED", ["manual_add", "wallet_approved"])),
        ("Pixel 9 (sandbox)", ("5", "3"), ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["manual_add"])),
        ("A new phone", ("5", "5"), ("REQUIRE_ADDITIONAL_AUTHENTICATION", ["manual_add", "new_device"])),
    ],
    ids=["trusted-known-device", "account-score-too-low", "new-device"],
)
def test_the_wallets_approval_can_lower_a_typed_in_card_to_approved(
    ask: Any, alice_card: Card, device: str, scores: tuple[str, str], expected: tuple[str, list[str]]
) -> None:
    _on_device(alice_card, "Pixel 9 (sandbox)")
    _rules(approve_manual_on_wallet_approval=True)
    decisioning = {"recommendedDecision": "APPROVED", "deviceScore": scores[0], "accountScore": scores[1]}

    assert _decided(ask(device=Device(device), decisioning=decisioning)) == expected


def test_asking_again_about_the_same_token_updates_its_record(ask: Any, pushed: None) -> None:
    first = ask(source=PUSH_SOURCE, decisioning={"deviceScore": "1"})
    again = ask(source=PUSH_SOURCE, token_unique_reference=first.reference, correlation_id=first.correlation_id)

    assert (first.body["decision"], again.body["decision"]) == ("REQUIRE_ADDITIONAL_AUTHENTICATION", "APPROVED")
    assert TokenizationRequest.objects.get().state == TokenizationRequest.State.APPROVED
    assert CardToken.objects.count() == 1


# --- the funding account's encryption ---------------------------------------------------------------------------
def _payload_with(mdes: IssuerServicesClient, alice_data: CardData, **envelope: str) -> dict[str, Any]:
    payload = mdes.authorize_service_payload(
        alice_data, token_unique_reference=new_reference(), correlation_id="C1", token_requestor_id=DEMOPAY
    )
    payload["fundingAccountInfo"]["encryptedPayload"].update(envelope)
    return payload


def test_a_payload_encrypted_for_another_key_is_refused(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData
) -> None:
    answer = mdes.call("authorizeService", _payload_with(mdes, alice_data, publicKeyFingerprint="ab" * 32))

    assert (answer.status, answer.body["errorCode"]) == (400, "CRYPTOGRAPHY_ERROR")
    assert AuditEvent.objects.filter(action="issuer_service.refused").exists()


def test_an_altered_payload_is_refused(mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData) -> None:
    good = _payload_with(mdes, alice_data)
    data = good["fundingAccountInfo"]["encryptedPayload"]["encryptedData"]
    altered = _payload_with(mdes, alice_data, encryptedData=data[:-32] + "00" * 16)

    answer = mdes.call("authorizeService", altered)

    assert (answer.status, answer.body["errorCode"]) == (400, "CRYPTOGRAPHY_ERROR")


def test_a_payload_past_its_validity_is_refused(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData
) -> None:
    payload = mdes.authorize_service_payload(
        alice_data, token_unique_reference=new_reference(), correlation_id="C1", token_requestor_id=DEMOPAY
    )
    payload["fundingAccountInfo"] = mdes.funding_account_info(
        alice_data, token_unique_reference=new_reference(), valid_for=timedelta(minutes=-1)
    )

    answer = mdes.call("authorizeService", payload)

    assert (answer.status, answer.body["errorCode"]) == (400, "INVALID_FIELD_VALUE")
    assert "no longer valid" in answer.body["errorDescription"]


def test_without_its_decryption_key_the_portal_says_it_cannot_answer(
    ask: Any, alice_card: Card, issuer_services_on: Any
) -> None:
    issuer_services_on.ISSUER_SERVICES_DECRYPTION_KEY_PATH = "/nonexistent/issuer.p12"

    answer = ask()

    assert (answer.status, answer.body["errorCode"]) == (503, "SERVICE_UNAVAILABLE")


def test_the_cardholders_pending_requests_are_found_by_cardholder(ask: Any, alice_card: Card, pushed: None) -> None:
    waiting = ask()
    ask(source=PUSH_SOURCE)  # approved at once: nothing to wait for
    lapsed = ask()
    TokenizationRequest.objects.filter(token_unique_reference=lapsed.reference).update(expires_at=timezone.now())
    someone_else = factories.CardholderFactory.create()

    assert alice_card.cardholder is not None
    pending = tokenization_requests_pending(cardholder=alice_card.cardholder)
    assert [request.token_unique_reference for request in pending] == [waiting.reference]
    assert not tokenization_requests_pending(cardholder=someone_else).exists()


def test_a_payload_without_an_iv_is_read_with_the_zero_iv_w2_assumes(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData
) -> None:
    payload = mdes.authorize_service_payload(
        alice_data, token_unique_reference=new_reference(), correlation_id="C1", token_requestor_id=DEMOPAY
    )
    data = {"source": "ACCOUNT_ADDED_MANUALLY", "cardAccountData": {"accountNumber": alice_data.account_number}}
    envelope = encrypt_envelope(data, certificate=mdes.encryption_certificate, iv=bytes(16))
    del envelope["iv"]
    payload["fundingAccountInfo"]["encryptedPayload"] = envelope

    answer = mdes.call("authorizeService", payload)

    assert (answer.status, answer.body["decision"]) == (200, "REQUIRE_ADDITIONAL_AUTHENTICATION")


# --- Click to Pay (mdes-beyond-the-push.md §1.2): authenticated before the push, never asked for more during it ---
@pytest.mark.parametrize("trid", ["50123197928", "50100000033"], ids=["click-to-pay", "sandbox-click-to-pay"])
@pytest.mark.parametrize(
    "asked",
    [
        {},
        {"decisioning": {"recommendedDecision": "REQUIRE_ADDITIONAL_AUTHENTICATION", "deviceScore": "1"}},
        {"decisioning": {"accountScore": "1"}, "active_token_count": 9},
    ],
    ids=["plain", "wallet-asks-for-proof-on-a-low-score", "low-account-score-many-tokens"],
)
def test_a_click_to_pay_push_the_portal_made_is_approved_never_stepped_up(
    ask: Any, alice_card: Card, trid: str, asked: dict[str, Any]
) -> None:
    PushFactory.create(card=alice_card, token_requestor=TokenRequestorFactory.create(trid=trid))

    answer = ask(source=PUSH_SOURCE, token_requestor_id=trid, wallet_id=None, device=None, **asked)

    decision, reasons = _decided(answer)
    assert decision == "APPROVED"
    assert answer.body["activationMethods"] == []
    assert reasons[0] == "push_from_portal"


def test_a_click_to_pay_push_the_portal_did_not_make_is_declined_rather_than_stepped_up(
    ask: Any, alice_card: Card
) -> None:
    answer = ask(source=PUSH_SOURCE, token_requestor_id="50123197928", wallet_id=None, device=None)

    decision, reasons = _decided(answer)
    assert decision == "DECLINED"
    assert (reasons[0], reasons[-1]) == ("push_not_found", "click_to_pay_no_step_up")


def test_a_click_to_pay_push_is_still_declined_for_a_card_that_is_not_active(ask: Any, alice_card: Card) -> None:
    PushFactory.create(card=alice_card, token_requestor=TokenRequestorFactory.create(trid="50123197928"))
    alice_card.transition_to(Card.State.SUSPENDED)
    alice_card.save()

    assert _decided(ask(source=PUSH_SOURCE, token_requestor_id="50123197928"))[0] == "DECLINED"
