"""Where the cardholder's cards live, through the API: a card's tokens after a real push to DemoPay, asking the
network again, and suspending, resuming and removing a token, each checked in the sandbox MDES's own records."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from provisioning.models import CardToken, CardTokenCheck, NetworkConfiguration
from provisioning.tokens import (
    TokenActor,
    card_tokens_refresh,
    customer_service_client,
    self_service_audit,
    token_suspend,
)
from tests import factories
from tests.api.conftest import DEMOPAY, HttpsApiClient, step_up_by_email
from tests.fixtures.sandbox_server import SandboxServer
from tests.wallet import wallet_decides

pytestmark = pytest.mark.django_db


def _push_to_demopay(app: HttpsApiClient, card: Card) -> None:
    """The app pushes the card to DemoPay on Android, the person approves in the wallet, the app reports it."""
    started = app.post(
        reverse("api:my_pushes"),
        {"cards": [str(card.public_id)], "token_requestor": DEMOPAY, "platform": "ANDROID"},
        format="json",
        headers={"Idempotency-Key": "push-1"},
    )
    assert started.status_code == 201, started.content
    back = parse_qs(urlsplit(wallet_decides(started.json()["redirect_url"], "APPROVED")).query)
    results = {key[len("results[") : -1]: values[0] for key, values in back.items() if key.startswith("results[")}
    reported = app.post(
        reverse("api:my_push_result", args=[started.json()["id"]]),
        {
            "results": [
                {
                    "receipt": receipt,
                    "result": value.partition("|")[0],
                    "token_unique_reference": value.partition("|")[2],
                }
                for receipt, value in results.items()
            ]
        },
        format="json",
    )
    assert reported.status_code == 200, reported.content


@pytest.fixture
def in_demopay(app: HttpsApiClient, card: Card, requestors: NetworkConfiguration) -> CardToken:
    """The card, pushed to DemoPay through the API: the network check at the callback recorded its token."""
    _push_to_demopay(app, card)
    return CardToken.objects.get(card=card)


def _in_sandbox(sandbox: SandboxServer, token: CardToken) -> dict[str, Any]:
    """The sandbox MDES's own record of the token."""
    return next(t for t in sandbox.tokens() if t["TokenUniqueReference"] == token.token_unique_reference)


def _suspenders(record: dict[str, Any]) -> list[str]:
    return list(record.get("Suspenders", {}).get("Suspender", []))


def _change(client: HttpsApiClient, action: str, token: CardToken, **body: Any) -> Any:
    return client.post(reverse(f"api:my_card_token_{action}", args=[token.public_id]), body or None, format="json")


@pytest.fixture
def operations_staff() -> Any:
    staff = factories.StaffUserFactory.create()
    staff.groups.add(Group.objects.get(name="Operations"))
    return staff


# --- listing ---------------------------------------------------------------------------------------------------------


def test_a_card_pushed_to_demopay_lists_its_token_as_the_network_describes_it(
    app: HttpsApiClient, card: Card, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    response = app.get(reverse("api:my_card_tokens", args=[card.public_id]))
    assert response.status_code == 200
    body = response.json()
    assert body["card"] == {"id": str(card.public_id), "product_name": "Everyday Debit", "last_four": "4444"}
    (listed,) = body["tokens"]
    network = _in_sandbox(sandbox, in_demopay)
    assert listed | {"token_requestor": None, "status_at": None, "checked_at": None} == {
        "id": str(in_demopay.public_id),
        "token_requestor": None,
        "device_name": "Pixel 9 (sandbox)",
        "device_type": "phone",
        "status": "active",
        "status_text": "Active",
        "suspended_by": [],
        "may_resume": False,
        "token_suffix": network["TokenSuffix"],
        "status_at": None,
        "checked_at": None,
    }
    requestor = listed["token_requestor"]
    assert (requestor["trid"], requestor["name"], requestor["type"]) == (DEMOPAY, "DemoPay", "WALLET")
    assert requestor["logo"]["svg"].startswith("https://testserver/api/v1/logos/")
    assert listed["status_at"]
    assert listed["checked_at"]
    assert in_demopay.token_unique_reference not in response.content.decode()  # the network's key stays inside
    assert factories.TEST_CARD_NUMBERS[0] not in response.content.decode()


def test_check_again_asks_the_network_and_finds_a_new_device(
    app: HttpsApiClient, card: Card, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    assert app.get(reverse("api:my_card_tokens", args=[card.public_id])).json()["checked_at"] is None
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, deviceName="Watch", deviceType="23"
    )
    checked = app.post(reverse("api:my_card_tokens_check", args=[card.public_id]))
    assert checked.status_code == 200, checked.content
    body = checked.json()
    assert body["checked_at"]
    assert body["last_check_failed"] is False
    assert sorted((t["device_name"], t["device_type"]) for t in body["tokens"]) == [
        ("Pixel 9 (sandbox)", "phone"),
        ("Watch", "watch"),
    ]
    assert app.get(reverse("api:my_card_tokens", args=[card.public_id])).json() == body


def test_a_check_the_network_cannot_answer_is_a_clear_problem_and_keeps_the_last_records(
    app: HttpsApiClient, card: Card, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(503)
    response = app.post(reverse("api:my_card_tokens_check", args=[card.public_id]))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "network_unavailable"
    assert "could not ask the card network" in response.json()["detail"]
    listed = app.get(reverse("api:my_card_tokens", args=[card.public_id])).json()
    assert listed["last_check_failed"] is True
    assert [t["id"] for t in listed["tokens"]] == [str(in_demopay.public_id)]
    assert CardTokenCheck.objects.get(card=card).failure
    assert AuditEvent.objects.filter(action="api.card_tokens_check_failed", outcome="failure").exists()


# --- changes, with the network's word --------------------------------------------------------------------------------


def test_suspend_resume_and_remove_change_the_token_in_the_network(
    app: HttpsApiClient, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    suspended = _change(app, "suspend", in_demopay)
    assert suspended.status_code == 200, suspended.content
    assert suspended.json() | {"status_at": None, "checked_at": None} == suspended.json() | {
        "id": str(in_demopay.public_id),
        "status": "suspended",
        "status_text": "Suspended by you",
        "suspended_by": ["cardholder"],
        "may_resume": True,
        "status_at": None,
        "checked_at": None,
    }
    network = _in_sandbox(sandbox, in_demopay)
    assert (network["CurrentStatusCode"], _suspenders(network)) == ("S", ["C"])

    resumed = _change(app, "resume", in_demopay)
    assert resumed.status_code == 200, resumed.content
    assert (resumed.json()["status"], resumed.json()["suspended_by"]) == ("active", [])
    assert _in_sandbox(sandbox, in_demopay)["CurrentStatusCode"] == "A"

    from_device = _change(app, "remove", in_demopay, everywhere=False)
    assert from_device.status_code == 200, from_device.content
    assert (from_device.json()["status"], from_device.json()["status_text"]) == (
        "removed_from_device",
        "Removed from the device",
    )
    network = _in_sandbox(sandbox, in_demopay)
    assert (network["CurrentStatusCode"], network["TokenDeletedFromConsumerApp"]) == ("A", True)
    assert [
        e.action for e in AuditEvent.objects.filter(action__startswith="token.", outcome="success").order_by("id")
    ] == [
        "token.suspended",
        "token.resumed",
        "token.removed",
    ]


def test_removing_everywhere_deletes_the_token_in_the_network(
    app: HttpsApiClient, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    removed = _change(app, "remove", in_demopay, everywhere=True)
    assert removed.status_code == 200, removed.content
    assert (removed.json()["status"], removed.json()["status_text"]) == ("removed", "Removed")
    assert _in_sandbox(sandbox, in_demopay)["CurrentStatusCode"] == "D"
    again = _change(app, "remove", in_demopay, everywhere=True)
    assert (again.status_code, again.json()["code"]) == (409, "token_state")


def test_removing_needs_to_say_where(app: HttpsApiClient, in_demopay: CardToken) -> None:
    response = _change(app, "remove", in_demopay)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["everywhere"]


def test_a_change_the_token_is_not_in_a_state_for_is_a_conflict(
    app: HttpsApiClient, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    resumed = _change(app, "resume", in_demopay)
    assert (resumed.status_code, resumed.json()["code"]) == (409, "token_state")
    assert resumed.json()["detail"] == "Only a paused card can be resumed."
    assert AuditEvent.objects.filter(action="token.resumed", outcome="failure").exists()
    assert _in_sandbox(sandbox, in_demopay)["CurrentStatusCode"] == "A"


def test_a_retried_suspension_with_its_idempotency_key_is_answered_once(
    app: HttpsApiClient, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    url = reverse("api:my_card_token_suspend", args=[in_demopay.public_id])
    first = app.post(url, headers={"Idempotency-Key": "suspend-1"})
    again = app.post(url, headers={"Idempotency-Key": "suspend-1"})
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (200, 200, "true")
    assert again.json() == first.json()
    assert [r["path"] for r in sandbox.request_log()].count("/mdes/csapi/v2/token/suspend") == 1


# --- who may ---------------------------------------------------------------------------------------------------------


def test_a_change_needs_a_fresh_step_up_in_the_session_but_reading_does_not(
    card: Card, cardholder: Cardholder, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    browser = HttpsApiClient()
    browser.force_login(cardholder.user)  # signed in, no second factor yet
    assert browser.get(reverse("api:my_card_tokens", args=[card.public_id])).status_code == 200
    for action, body in (("suspend", {}), ("resume", {}), ("remove", {"everywhere": True})):
        response = _change(browser, action, in_demopay, **body)
        assert (response.status_code, response.json()["code"]) == (403, "step_up_required"), action
    assert AuditEvent.objects.filter(action="api.step_up_required", detail="browser session").count() == 3
    assert _in_sandbox(sandbox, in_demopay)["CurrentStatusCode"] == "A"
    step_up_by_email(browser)
    assert _change(browser, "suspend", in_demopay).status_code == 200
    assert _in_sandbox(sandbox, in_demopay)["CurrentStatusCode"] == "S"


def test_an_app_token_changes_tokens_only_while_its_step_up_is_fresh(
    cardholder: Cardholder,
    card: Card,
    requestors: NetworkConfiguration,
    issue_token: Callable[[Cardholder], str],
    sandbox: SandboxServer,
) -> None:
    app = HttpsApiClient()
    app.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(cardholder)}")
    _push_to_demopay(app, card)
    token = CardToken.objects.get(card=card)
    later = timezone.now() + timedelta(seconds=settings.PORTAL_STEP_UP_MAX_AGE_SECONDS + 1)
    with time_machine.travel(later):
        response = _change(app, "suspend", token)
        assert (response.status_code, response.json()["code"]) == (403, "step_up_required")
        assert "exchange the session for a new token" in response.json()["detail"]
        assert app.get(reverse("api:my_card_tokens", args=[card.public_id])).status_code == 200
    assert _in_sandbox(sandbox, token)["CurrentStatusCode"] == "A"


def test_another_cardholders_card_and_tokens_are_not_found(
    app: HttpsApiClient, requestors: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    other = factories.CardFactory.create(
        cardholder=factories.CardholderFactory.create(), card_number=factories.TEST_CARD_NUMBERS[3]
    )
    sandbox.create_token(accountNumber=factories.TEST_CARD_NUMBERS[3], tokenRequestorId=DEMOPAY)
    card_tokens_refresh(other)
    theirs = CardToken.objects.get(card=other)
    assert app.get(reverse("api:my_card_tokens", args=[other.public_id])).status_code == 404
    assert app.post(reverse("api:my_card_tokens_check", args=[other.public_id])).status_code == 404
    for action, body in (("suspend", {}), ("resume", {}), ("remove", {"everywhere": True})):
        response = _change(app, action, theirs, **body)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), action
    assert _in_sandbox(sandbox, theirs)["CurrentStatusCode"] == "A"


def test_a_suspension_by_the_bank_cannot_be_lifted_by_the_cardholder(
    app: HttpsApiClient,
    card: Card,
    cardholder: Cardholder,
    in_demopay: CardToken,
    sandbox: SandboxServer,
    operations_staff: Any,
) -> None:
    token_suspend(in_demopay, actor=TokenActor.staff(operations_staff), reason_code="S", comment="Reported stolen")
    (listed,) = app.get(reverse("api:my_card_tokens", args=[card.public_id])).json()["tokens"]
    assert (listed["status"], listed["suspended_by"], listed["may_resume"]) == ("suspended", ["issuer"], False)
    assert listed["status_text"] == "Suspended by your bank"

    response = _change(app, "resume", in_demopay)
    assert (response.status_code, response.json()["code"]) == (403, "suspended_by_other")
    assert "only they can resume it" in response.json()["detail"]
    network = _in_sandbox(sandbox, in_demopay)
    assert (network["CurrentStatusCode"], _suspenders(network)) == ("S", ["I"])
    assert AuditEvent.objects.filter(action="token.resumed", outcome="failure", actor=cardholder.user).exists()


# --- the network failing ---------------------------------------------------------------------------------------------


def test_a_network_that_cannot_be_reached_changes_nothing(
    app: HttpsApiClient, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(429)  # the gateway's rate limit
    response = _change(app, "suspend", in_demopay)
    assert (response.status_code, response.json()["code"]) == (503, "network_unavailable")
    assert "Nothing was changed" in response.json()["detail"]
    in_demopay.refresh_from_db()
    assert in_demopay.status == CardToken.Status.ACTIVE
    assert _in_sandbox(sandbox, in_demopay)["CurrentStatusCode"] == "A"


def test_a_refusal_by_the_network_names_its_reason(
    app: HttpsApiClient, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    # Suspended in the network behind the portal's back (the record still says active): it cannot be twice.
    customer_service_client().suspend(
        in_demopay.token_unique_reference, reason_code="Z", audit=self_service_audit("cardholder-1"), comment=None
    )
    response = _change(app, "suspend", in_demopay)
    assert (response.status_code, response.json()["code"]) == (502, "network_refused")
    assert "INVALID_STATE" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="token.suspended", outcome="failure").count() == 1


def test_a_change_whose_answer_was_lost_is_being_checked(
    app: HttpsApiClient, card: Card, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(500)  # MDES failed: it may or may not have suspended the token
    response = _change(app, "suspend", in_demopay)
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["state"] == "being_checked"
    assert "We are checking" in body["message"]
    assert (body["token"]["id"], body["token"]["status"]) == (str(in_demopay.public_id), "active")
    assert CardTokenCheck.objects.get(card=card).attempted_at is None  # due for the background refresh at once
    checked = app.post(reverse("api:my_card_tokens_check", args=[card.public_id])).json()
    assert [t["status"] for t in checked["tokens"]] == ["active"]  # the network's word: it did not suspend
