"""The Prometheus figures move with a real push over the sandbox, carry no card data or receipts, and reach only
internal callers."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from provisioning.models import PushRequest
from tests.factories import TEST_CARD_NUMBERS
from tests.metrics import moved, scrape
from tests.provisioning.test_push_flow import DEMOPAY, _come_back, _push
from tests.wallet import wallet_decides

pytestmark = pytest.mark.django_db


def test_a_push_moves_the_push_and_mdes_figures(portal: Client, card) -> None:
    _, before = scrape(portal)

    response = _push(portal, [card], DEMOPAY)
    target = response["Location"]
    _come_back(portal, wallet_decides(target, "APPROVED"))

    text, after = scrape(portal)
    assert PushRequest.objects.get().state == PushRequest.State.RETURNED
    assert moved(before, after, "portal_pushes_total", requestor=DEMOPAY, step="started", outcome="web") == 1
    assert moved(before, after, "portal_pushes_total", requestor=DEMOPAY, step="pushed", outcome="all") == 1
    assert moved(before, after, "portal_pushes_total", requestor=DEMOPAY, step="redirected", outcome="web") == 1
    assert moved(before, after, "portal_pushes_total", requestor=DEMOPAY, step="returned", outcome="used") == 1
    latency = ("portal_mdes_request_duration_seconds_count", {"operation": "pushMultipleAccounts", "status": "200"})
    assert moved(before, after, latency[0], **latency[1]) == 1

    receipts = parse_qs(urlsplit(target).query)
    assert all(value not in text for values in receipts.values() for value in values if len(value) > 8)
    assert TEST_CARD_NUMBERS[0] not in text
    assert card.cardholder.user.email not in text


def test_an_mdes_refusal_is_counted_by_operation_and_code(portal: Client, card, sandbox) -> None:
    _, before = scrape(portal)
    sandbox.fail_next(503)

    _push(portal, [card], DEMOPAY)

    _, after = scrape(portal)
    assert moved(before, after, "portal_pushes_total", requestor=DEMOPAY, step="failed", outcome="OUTCOME_UNKNOWN") == 1
    errors = {
        labels: value - before.get((name, labels), 0.0)
        for (name, labels), value in after.items()
        if name == "portal_mdes_errors_total" and ("operation", "pushMultipleAccounts") in labels
    }
    assert sum(errors.values()) >= 1
    latency = ("portal_mdes_request_duration_seconds_count", {"operation": "pushMultipleAccounts", "status": "503"})
    assert moved(before, after, latency[0], **latency[1]) == 1


def test_the_figures_are_not_public(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 404
