"""The delivery log in the staff area: Operations and Auditor read it with its attempts; Operations replay a delivery
(a new delivery id for the same event, audited with who asked); Auditor cannot."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import StaffUserFactory
from tests.issuer_portal.helpers import staff_client
from tests.webhooks.conftest import Receiver
from users.models import User
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_event_send

pytestmark = pytest.mark.django_db

PAYLOAD = {"wallet_request_id": "5b0f6c3e-0000-4000-8000-000000000002", "card_last_four": "0366"}
CHANGELIST = "admin:webhooks_webhookdelivery_changelist"


def _member_of(role: str) -> User:
    user = StaffUserFactory.create(is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any, tasks_in_process: None) -> Any:
    """Runs what waits for the transaction's commit (the task) at the end of the block, as outside a test's
    transaction it would run at the commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def delivered(webhooks_on: Receiver, committed: Any) -> WebhookDelivery:
    webhooks_on.answers(503, 200)
    with committed():
        delivery = webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD, key="request-2")
    assert delivery is not None
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    return delivery


@pytest.mark.parametrize("role", ["Operations", "Auditor"])
def test_staff_read_the_log_and_each_delivery_s_attempts(delivered: WebhookDelivery, role: str) -> None:
    client = staff_client(_member_of(role))

    listed = client.get(reverse(CHANGELIST), {"state": "delivered", "event_type": "wallet_request.pending"})
    found = client.get(reverse(CHANGELIST), {"q": str(delivered.delivery_id)})
    page = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivered.pk]))

    assert listed.status_code == found.status_code == page.status_code == 200
    assert str(delivered.delivery_id) in listed.content.decode()
    assert ("Replay" in listed.content.decode()) == (role == "Operations")
    assert str(delivered.delivery_id) in found.content.decode()
    assert client.get(reverse(CHANGELIST), {"q": "no-such-delivery"}).context["cl"].result_count == 0
    html = page.content.decode()
    assert "answered HTTP 503" in html  # the first attempt, in the inline
    assert "0366" in html
    assert 'name="_save"' not in html  # read-only for everyone


def test_operations_replay_a_delivery_as_a_new_delivery_of_the_same_event(
    delivered: WebhookDelivery, webhooks_on: Receiver, committed: Any
) -> None:
    operator = _member_of("Operations")
    client = staff_client(operator)

    with committed():
        response = client.post(
            reverse(CHANGELIST), {"action": "replay", "_selected_action": [delivered.pk]}, follow=True
        )

    assert "1 event sent again." in response.content.decode()
    first, retry, replayed = webhooks_on.wait_for(3)
    assert (first.answered, retry.answered, replayed.answered) == (503, 200, 200)
    assert replayed.signed
    assert replayed.body == retry.body  # the same event, word for word
    assert replayed.headers["X-Event-Id"] == str(delivered.event_id)
    assert replayed.headers["X-Delivery-Id"] != str(delivered.delivery_id)
    replay = WebhookDelivery.objects.get(replay_of=delivered)
    assert (replay.state, replay.replayed_by_label) == ("delivered", str(operator))
    assert replayed.headers["X-Delivery-Id"] == str(replay.delivery_id)
    event = AuditEvent.objects.get(action="webhook.replayed")
    assert event.actor == operator
    assert event.after == {
        "event_type": "wallet_request.pending",
        "event_id": str(delivered.event_id),
        "delivery_id": str(replay.delivery_id),
        "replay_of": str(delivered.delivery_id),
    }


def test_auditors_cannot_replay(delivered: WebhookDelivery, webhooks_on: Receiver, committed: Any) -> None:
    client = staff_client(_member_of("Auditor"))

    page = client.get(reverse(CHANGELIST))
    with committed():
        client.post(reverse(CHANGELIST), {"action": "replay", "_selected_action": [delivered.pk]})

    assert "Replay" not in page.content.decode()
    assert WebhookDelivery.objects.count() == 1
    assert not AuditEvent.objects.filter(action="webhook.replayed").exists()
    assert len(webhooks_on.wait_for(3, timeout=1)) == 2


def test_a_replay_that_cannot_be_sent_says_why_and_is_audited(delivered: WebhookDelivery, settings: Any) -> None:
    settings.WEBHOOKS_URL = ""
    operator = _member_of("Operations")

    response = staff_client(operator).post(
        reverse(CHANGELIST), {"action": "replay", "_selected_action": [delivered.pk]}, follow=True
    )

    assert "Webhooks are off (WEBHOOKS_URL is not set): nothing can be sent." in response.content.decode()
    assert WebhookDelivery.objects.count() == 1
    refusal = AuditEvent.objects.get(action="webhook.replay_refused")
    assert (refusal.actor, refusal.outcome) == (operator, AuditEvent.Outcome.FAILURE)
