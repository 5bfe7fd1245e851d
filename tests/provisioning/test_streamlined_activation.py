"""Streamlined activation: a requestor set to leave the activation to the issuer gets completeWebsiteActivation=false;
its wallet comes back REQUIRE_ADDITIONAL_AUTHENTICATION with a token awaiting proof, and the portal activates it
(the cardholder passed the second factor before the push). Over the real sandbox: its wallet pages, its Customer
Service API."""

import base64
import json
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from provisioning import refresh
from provisioning.activation import streamlined_activations_due
from provisioning.models import CardToken, NetworkCheck, PushReceipt, TokenRequestor
from provisioning.network_check import receipt_network_checks_due
from tests.fixtures.sandbox_server import SandboxServer
from tests.wallet import DEMOPAY, callback_opened, wallet_decides

pytestmark = pytest.mark.django_db

RAA = "REQUIRE_ADDITIONAL_AUTHENTICATION"
Activation = PushReceipt.Activation


@pytest.fixture
def streamlined(portal: Client) -> TokenRequestor:
    requestor = TokenRequestor.objects.get(trid=DEMOPAY)
    requestor.complete_website_activation = False
    requestor.save()
    return requestor


def _pushed(portal: Client, card: Card) -> str:
    requestor = TokenRequestor.objects.get(trid=DEMOPAY)
    response = portal.post(
        "/push/", {"card": [card.public_id], "token_requestor": requestor.pk, "idempotency_key": "form-1"}
    )
    assert response.status_code == 302, response.content
    return str(response["Location"])


def _signed_values(redirect_url: str) -> dict[str, Any]:
    """What MDES signed for the wallet (the JWS alone, the guide's form), or the plain parameters."""
    query = parse_qs(urlsplit(redirect_url).query)
    if "pushAccountData" in query:
        payload = query["pushAccountData"][0].split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    return {name: values[0] for name, values in query.items()}


def _page(portal: Client, receipt: PushReceipt) -> str:
    return portal.get(f"/push/{receipt.push.public_id}/").content.decode()


def _sandbox_token(sandbox: SandboxServer, reference: str | None) -> dict[str, Any]:
    return next(t for t in sandbox.tokens() if t["TokenUniqueReference"] == reference)


def test_a_new_requestor_takes_the_deployments_choice_and_the_staff_choice_survives_a_refresh(
    portal: Client, settings: Any
) -> None:
    requestor = TokenRequestor.objects.get(trid=DEMOPAY)
    assert requestor.complete_website_activation is True  # MDES's default, and the setting's
    requestor.complete_website_activation = False
    requestor.save()

    refresh.token_requestors_refresh()

    requestor.refresh_from_db()
    assert requestor.complete_website_activation is False
    settings.MDES_COMPLETE_WEBSITE_ACTIVATION = False
    TokenRequestor.objects.filter(trid="50100000022").delete()
    refresh.token_requestors_refresh()
    assert TokenRequestor.objects.get(trid="50100000022").complete_website_activation is False


def test_the_push_asks_the_wallet_to_leave_the_activation_to_the_issuer(
    streamlined: TokenRequestor, portal: Client, card: Card
) -> None:
    values = _signed_values(_pushed(portal, card))
    assert values["completeWebsiteActivation"] in (False, "false")
    assert TokenRequestor.objects.get(trid="50100000022").complete_website_activation is True


def test_the_portal_activates_the_waiting_token_and_the_card_is_added(
    streamlined: TokenRequestor, portal: Client, card: Card, cardholder: Cardholder, sandbox: SandboxServer
) -> None:
    callback = wallet_decides(_pushed(portal, card), RAA)
    assert f"{RAA}%7C" in callback  # the wallet ran no activation: the token waits for the issuer

    assert callback_opened(portal, callback).status_code == 302

    receipt = PushReceipt.objects.get()
    assert (receipt.reported_result, receipt.result, receipt.activation) == (RAA, "APPROVED", Activation.DONE)
    assert receipt.network_check == NetworkCheck.CONFIRMED
    assert _sandbox_token(sandbox, receipt.token_unique_reference)["CurrentStatusCode"] == "A"
    assert CardToken.objects.get(token_unique_reference=receipt.token_unique_reference).status == "A"
    activated = AuditEvent.objects.get(action="token.activated")
    assert activated.actor == cardholder.user  # the cardholder's own act, through their push
    assert "reason A" in activated.detail
    assert f"push {receipt.push.public_id}" in activated.detail
    assert AuditEvent.objects.filter(action="push.activated", outcome=AuditEvent.Outcome.SUCCESS).exists()
    page = _page(portal, receipt)
    assert "is in DemoPay</h1>" in page  # the same words as any card added
    assert "is now in DemoPay" in page


def test_without_streamlined_activation_the_token_waits_for_the_wallets_own_steps(
    portal: Client, card: Card, sandbox: SandboxServer
) -> None:
    callback_opened(portal, wallet_decides(_pushed(portal, card), RAA))

    receipt = PushReceipt.objects.get()
    assert (receipt.result, receipt.activation) == (RAA, Activation.NONE)
    assert _sandbox_token(sandbox, receipt.token_unique_reference)["CurrentStatusCode"] == "U"
    assert not AuditEvent.objects.filter(action="token.activated").exists()
    assert "needs to check it is you" in _page(portal, receipt)


def test_a_forged_report_of_a_waiting_token_activates_nothing(
    streamlined: TokenRequestor, portal: Client, card: Card, sandbox: SandboxServer
) -> None:
    genuine = wallet_decides(_pushed(portal, card), "CANCELLED")  # the wallet made no token
    parts = urlsplit(genuine)
    forged = [(k, f"{RAA}|DSBXMC{'0' * 42}" if k.startswith("results[") else v) for k, v in parse_qsl(parts.query)]

    callback_opened(portal, parts._replace(query=urlencode(forged)).geturl())

    receipt = PushReceipt.objects.get()
    assert (receipt.result, receipt.activation) == (PushReceipt.Result.NOT_ADDED, Activation.NONE)
    assert not AuditEvent.objects.filter(action__in=["token.activated", "push.activated"]).exists()
    assert "has no record of" in _page(portal, receipt)


def test_when_the_network_cannot_answer_at_the_callback_the_page_says_not_active_yet_and_the_sweep_finishes_it(
    streamlined: TokenRequestor, portal: Client, card: Card, sandbox: SandboxServer, settings: Any
) -> None:
    settings.PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS = 0
    callback = wallet_decides(_pushed(portal, card), RAA)
    sandbox.fail_next(503)  # the network check at the callback

    callback_opened(portal, callback)

    receipt = PushReceipt.objects.get()
    assert (receipt.network_check, receipt.activation) == (NetworkCheck.PENDING, Activation.DUE)
    page = _page(portal, receipt)
    assert "is not active in DemoPay yet</h1>" in page
    assert "not active yet: we are finishing its activation" in page
    assert "is now in DemoPay" not in page

    receipt_network_checks_due()
    sandbox.fail_next(500)  # the activation's answer is lost
    streamlined_activations_due()

    receipt.refresh_from_db()
    assert (receipt.activation, receipt.activation_attempts) == (Activation.DUE, 1)
    assert "not active yet" in _page(portal, receipt)
    failed = AuditEvent.objects.get(action="token.activated")
    assert failed.outcome == AuditEvent.Outcome.FAILURE

    assert streamlined_activations_due() == 1  # asks the network first, then activates

    receipt.refresh_from_db()
    assert (receipt.result, receipt.activation) == ("APPROVED", Activation.DONE)
    assert _sandbox_token(sandbox, receipt.token_unique_reference)["CurrentStatusCode"] == "A"
    assert "is now in DemoPay" in _page(portal, receipt)


def test_an_activation_that_keeps_failing_is_given_up_audited_and_the_page_says_to_call(
    streamlined: TokenRequestor, portal: Client, card: Card, sandbox: SandboxServer, settings: Any
) -> None:
    settings.PROVISIONING_NETWORK_CHECK_ATTEMPTS = 2
    settings.PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS = 0
    callback = wallet_decides(_pushed(portal, card), RAA)
    sandbox.fail_next(503)  # the check at the callback
    callback_opened(portal, callback)
    receipt_network_checks_due()  # the network confirms the waiting token

    for _ in range(2):
        sandbox.fail_next(503)  # the activation, then the network's word before the last try
        streamlined_activations_due()

    receipt = PushReceipt.objects.get()
    assert (receipt.result, receipt.activation, receipt.activation_attempts) == (RAA, Activation.FAILED, 2)
    event = AuditEvent.objects.get(action="push.activation_failed")
    assert event.outcome == AuditEvent.Outcome.FAILURE
    page = _page(portal, receipt)
    assert "could not be activated in DemoPay</h1>" in page
    assert "we could not activate it there" in page
    assert "Call us" in page
    assert streamlined_activations_due() == 0  # given up: not tried again
