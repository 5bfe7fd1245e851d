"""The network's word wins: what a callback reports is checked with the Customer Service API (the sandbox's)."""

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.models import NetworkCheck, PushReceipt
from provisioning.network_check import receipt_network_checks_due
from tests.fixtures.sandbox_server import SandboxServer
from tests.wallet import callback_opened, pushed_and_decided

pytestmark = pytest.mark.django_db


def _with_result(callback: str, result: str) -> str:
    """The same callback URL with every result replaced: what a cardholder can type into the address bar."""
    parts = urlsplit(callback)
    query = [(key, result if key.startswith("results[") else value) for key, value in parse_qsl(parts.query)]
    return parts._replace(query=urlencode(query)).geturl()


def test_a_forged_approved_is_corrected_to_the_networks_word_and_audited(portal: Client, card: Card) -> None:
    genuine = pushed_and_decided(portal, card, "CANCELLED")  # the wallet made no token
    assert callback_opened(portal, _with_result(genuine, "APPROVED")).status_code == 302

    receipt = PushReceipt.objects.get()
    assert (receipt.reported_result, receipt.result) == ("APPROVED", PushReceipt.Result.NOT_ADDED)
    assert receipt.network_check == NetworkCheck.CORRECTED
    event = AuditEvent.objects.get(action="push.outcome_contradicted")
    assert (event.before, event.after) == ({"result": "APPROVED", "reported": "APPROVED"}, {"result": "NOT_ADDED"})
    page = portal.get(f"/push/{receipt.push.public_id}/").content.decode()
    assert "has no record of" in page
    assert "is now in DemoPay" not in page


def test_the_genuine_callback_after_a_forged_one_is_processed(portal: Client, card: Card) -> None:
    genuine = pushed_and_decided(portal, card, "APPROVED")  # the wallet made a token and names it
    callback_opened(portal, _with_result(genuine, "DECLINED"))  # someone reports first that it was declined
    receipt = PushReceipt.objects.get()
    assert receipt.result == PushReceipt.Result.APPROVED  # the network has the token: its word wins already
    assert receipt.network_check == NetworkCheck.CORRECTED

    callback_opened(portal, genuine)

    receipt.refresh_from_db()
    assert (receipt.reported_result, receipt.result) == ("APPROVED", "APPROVED")
    assert receipt.network_check == NetworkCheck.CONFIRMED
    assert receipt.token_unique_reference
    assert "Confirmed by the card network." in portal.get(f"/push/{receipt.push.public_id}/").content.decode()


def test_an_outcome_the_network_bears_out_is_confirmed_without_an_audit_of_contradiction(
    portal: Client, card: Card
) -> None:
    callback_opened(portal, pushed_and_decided(portal, card, "APPROVED"))
    receipt = PushReceipt.objects.get()
    assert (receipt.result, receipt.network_check) == ("APPROVED", NetworkCheck.CONFIRMED)
    assert not AuditEvent.objects.filter(action="push.outcome_contradicted").exists()


def test_when_the_network_cannot_answer_the_sweep_asks_again_and_then_records_it_could_not(
    portal: Client, card: Card, sandbox: SandboxServer, settings: Any
) -> None:
    settings.PROVISIONING_NETWORK_CHECK_BACKOFF_SECONDS = 0
    settings.PROVISIONING_NETWORK_CHECK_ATTEMPTS = 3
    callback = pushed_and_decided(portal, card, "APPROVED")
    sandbox.fail_next(503)
    callback_opened(portal, callback)
    receipt = PushReceipt.objects.get()
    assert (receipt.network_check, receipt.result) == (NetworkCheck.PENDING, "APPROVED")
    page = portal.get(f"/push/{receipt.push.public_id}/").content.decode()
    assert "still checking this with the card network" in page

    assert receipt_network_checks_due() == 1  # MDES answers again
    receipt.refresh_from_db()
    assert receipt.network_check == NetworkCheck.CONFIRMED

    PushReceipt.objects.filter(pk=receipt.pk).update(network_check=NetworkCheck.PENDING, network_check_attempts=2)
    sandbox.fail_next(503)
    receipt_network_checks_due()
    receipt.refresh_from_db()
    assert receipt.network_check == NetworkCheck.UNCHECKED
    assert AuditEvent.objects.filter(action="push.outcome_unchecked").count() == 1
