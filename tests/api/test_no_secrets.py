"""No full card number or receipt leaves the API except the receipt in the push-start answer: not in other answers,
not in logs, not in Celery messages (G7), not in the audit trail."""

import logging

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.models import NetworkConfiguration
from tests.api.conftest import DEMOPAY, HttpsApiClient
from tests.factories import TEST_CARD_NUMBERS

pytestmark = pytest.mark.django_db


def test_a_whole_api_flow_keeps_card_numbers_and_receipts_to_itself(
    app: HttpsApiClient,
    card: Card,
    requestors: NetworkConfiguration,
    manager: HttpsApiClient,
    gift_card: Card,
    caplog: pytest.LogCaptureFixture,
    published: list[object],
) -> None:
    caplog.set_level(logging.DEBUG)
    started = app.post(
        reverse("api:my_pushes"),
        {"cards": [str(card.public_id)], "token_requestor": DEMOPAY, "platform": "ANDROID"},
        format="json",
        headers={"Idempotency-Key": "g7"},
    )
    receipt = started.json()["receipts"][0]["receipt"]
    push_id = started.json()["id"]
    answers = [
        app.get(reverse("api:my_cards")),
        app.get(reverse("api:my_pushes")),
        app.get(reverse("api:my_push", args=[push_id])),
        app.post(
            reverse("api:my_push_result", args=[push_id]),
            {"results": [{"receipt": receipt, "result": "APPROVED"}]},
            format="json",
        ),
        manager.post(
            reverse("api:program_landing_links"),
            {"card": str(gift_card.public_id), "purpose": "gift", "recipient_email": "a@example.test", "deliver": True},
            format="json",
        ),
        manager.get(reverse("api:program_cards")),
        app.post(reverse("api:my_card_tokens_check", args=[card.public_id])),  # searches by the card number
        app.get(reverse("api:my_card_tokens", args=[card.public_id])),
    ]
    numbers = [TEST_CARD_NUMBERS[0], TEST_CARD_NUMBERS[2]]
    for answer in answers:
        assert answer.status_code in (200, 201)
        for secret in [receipt, *numbers]:
            assert secret not in answer.content.decode()
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    audited = "\n".join(f"{e.actor_label} {e.before} {e.after} {e.detail}" for e in AuditEvent.objects.all())
    for secret in [receipt, *numbers]:
        assert secret not in logged
        assert secret not in audited
    assert all(receipt not in str(m) and TEST_CARD_NUMBERS[0] not in str(m) for m in published)
