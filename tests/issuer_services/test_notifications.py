"""notifyServiceActivated and notifyTokenUpdated over HTTP from the sandbox's MDES: the token records follow the
network's word, the same notification twice changes nothing, and each change is audited once."""

from typing import Any

import pytest

from audit.models import AuditEvent
from cardholders.models import Card
from issuer_services.models import TokenizationRequest
from provisioning.models import CardToken
from sandbox.issuer_services import CardData, Device, IssuerServicesClient, new_correlation_id
from tests.fixtures.issuer_services import DEMOPAY, PREFIX
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_services.conftest import Asked, new_reference

pytestmark = pytest.mark.django_db(transaction=True)


def _activated(mdes: IssuerServicesClient, card: CardData, reference: str, correlation_id: str, **fields: Any) -> Any:
    return mdes.notify_service_activated(
        card,
        token_unique_reference=reference,
        correlation_id=correlation_id,
        token_requestor_id=DEMOPAY,
        wallet_id="216",
        **fields,
    )


def _events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def pending(ask: Any, alice_card: Card) -> Asked:
    asked: Asked = ask()
    return asked


def test_service_activated_makes_the_pending_token_active(
    mdes: IssuerServicesClient, pending: Asked, alice_data: CardData
) -> None:
    answer = _activated(mdes, alice_data, pending.reference, pending.correlation_id, device=Device("Alice's Pixel"))

    assert answer.status == 200
    assert answer.body == {"responseId": answer.body["responseId"]}
    token = CardToken.objects.get(token_unique_reference=pending.reference)
    assert (token.status, token.device_name, token.wallet_id) == ("A", "Alice's Pixel", "216")
    assert token.status_at is not None
    request = TokenizationRequest.objects.get()
    assert request.state == TokenizationRequest.State.ACTIVATED
    assert request.activated_at is not None
    assert _events("issuer_service.token_activated") == 1


def test_the_same_activation_twice_changes_nothing(
    mdes: IssuerServicesClient, pending: Asked, alice_data: CardData
) -> None:
    _activated(mdes, alice_data, pending.reference, pending.correlation_id)
    before = CardToken.objects.values().get()

    again = _activated(mdes, alice_data, pending.reference, pending.correlation_id)

    assert again.status == 200
    assert CardToken.objects.values().get() == before
    assert _events("issuer_service.token_activated") == 1


def test_an_activation_the_portal_was_never_asked_about_is_recorded_from_its_payload(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData
) -> None:
    reference = new_reference()

    answer = _activated(mdes, alice_data, reference, new_correlation_id(), decision="APPROVED")

    assert answer.status == 200
    token = CardToken.objects.get(token_unique_reference=reference)
    assert (token.card, token.status, token.trid) == (alice_card, "A", DEMOPAY)


def test_an_activation_of_no_card_of_ours_is_refused(mdes: IssuerServicesClient, alice_card: Card) -> None:
    answer = _activated(mdes, CardData("5454545454545454", "12", "30"), new_reference(), new_correlation_id())

    assert (answer.status, answer.body["errorCode"]) == (404, "UNKNOWN_TOKEN")
    assert not CardToken.objects.exists()


def _updated(mdes: IssuerServicesClient, reference: str, **fields: Any) -> None:
    answer = mdes.notify_token_updated(token_unique_reference=reference, **fields)
    assert answer.status == 200, answer.body
    assert answer.body["responseId"]


@pytest.fixture
def active(mdes: IssuerServicesClient, pending: Asked, alice_data: CardData) -> CardToken:
    _activated(mdes, alice_data, pending.reference, pending.correlation_id)
    return CardToken.objects.get(token_unique_reference=pending.reference)


def test_a_suspension_by_the_wallet_is_recorded_once(mdes: IssuerServicesClient, active: CardToken) -> None:
    _updated(mdes, active.token_unique_reference, status="SUSPENDED", suspended_by=["TOKEN_REQUESTOR"])
    once = CardToken.objects.values().get()
    _updated(mdes, active.token_unique_reference, status="SUSPENDED", suspended_by=["TOKEN_REQUESTOR"])

    active.refresh_from_db()
    assert (active.status, active.suspenders) == ("S", ["W"])
    assert active.suspended_by == {CardToken.Party.TOKEN_REQUESTOR}
    assert CardToken.objects.values().get() == once
    [event] = AuditEvent.objects.filter(action="issuer_service.token_updated")
    before = event.before or {}
    assert (before["status"], before["suspenders"], set(before)) == ("A", [], {"status", "status_at", "suspenders"})
    assert (event.after or {})["reason_code"] == "STATUS_UPDATE"


def test_a_resumed_token_drops_its_suspenders(mdes: IssuerServicesClient, active: CardToken) -> None:
    active.status, active.suspenders, active.portal_suspenders = "S", ["C", "I"], ["cardholder"]
    active.save()

    _updated(mdes, active.token_unique_reference, status="ACTIVE")

    active.refresh_from_db()
    assert (active.status, active.suspenders, active.portal_suspenders) == ("A", [], [])


def test_a_deactivated_token_is_removed(mdes: IssuerServicesClient, active: CardToken) -> None:
    _updated(mdes, active.token_unique_reference, status="DEACTIVATED")

    active.refresh_from_db()
    assert active.status == CardToken.Status.DELETED
    assert not active.is_live


def test_a_token_deleted_from_the_phone_stays_but_is_marked(mdes: IssuerServicesClient, active: CardToken) -> None:
    _updated(mdes, active.token_unique_reference, reason_code="DELETED_FROM_CONSUMER_APP")
    _updated(mdes, active.token_unique_reference, reason_code="DELETED_FROM_CONSUMER_APP")

    active.refresh_from_db()
    assert (active.status, active.deleted_from_consumer_app) == ("A", True)
    assert _events("issuer_service.token_updated") == 1


def test_a_token_activated_elsewhere_completes_its_pending_request(mdes: IssuerServicesClient, pending: Asked) -> None:
    _updated(mdes, pending.reference, status="ACTIVE")

    assert TokenizationRequest.objects.get().state == TokenizationRequest.State.ACTIVATED
    assert CardToken.objects.get().status == "A"


def test_an_update_of_a_token_the_portal_does_not_know_is_answered_and_noted(
    mdes: IssuerServicesClient, alice_card: Card
) -> None:
    reference = new_reference()

    _updated(mdes, reference, status="SUSPENDED", suspended_by=["ISSUER"])

    assert not CardToken.objects.exists()
    event = AuditEvent.objects.get(action="issuer_service.token_update_unknown")
    assert (event.after or {})["tokens"] == [reference]


def test_the_sandbox_tells_the_portal_when_its_wallet_suspends_a_token(
    mdes: IssuerServicesClient, active: CardToken, sandbox: SandboxServer, live_server: Any
) -> None:
    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    sandbox.create_token(
        accountNumber="5555555555554444", tokenRequestorId=DEMOPAY, tokenUniqueReference=active.token_unique_reference
    )

    answer = sandbox.control("POST", f"tokens/{active.token_unique_reference}/wallet", {"action": "suspend"}).json()

    assert answer["issuerNotified"] == 200
    active.refresh_from_db()
    assert (active.status, active.suspenders) == ("S", ["W"])


def test_a_removed_token_stays_removed_whatever_activation_arrives(
    mdes: IssuerServicesClient, active: CardToken, alice_data: CardData, pending: Asked
) -> None:
    _updated(mdes, active.token_unique_reference, status="DEACTIVATED")

    _activated(mdes, alice_data, pending.reference, pending.correlation_id, device=Device("Another phone"))

    active.refresh_from_db()
    assert (active.status, active.device_name) == (CardToken.Status.DELETED, "Pixel 9 (sandbox)")
