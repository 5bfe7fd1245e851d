"""The program manager's API: landing links minted, listed and revoked for the program's cards, and a card's push
history; nothing outside the key's program is visible."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card, Program
from landing.models import LandingLink
from provisioning.models import NetworkConfiguration
from tests import factories
from tests.api.conftest import DEMOPAY, HttpsApiClient

pytestmark = pytest.mark.django_db


def _mint(manager: HttpsApiClient, card: Card, **fields: Any) -> Any:
    body = {"card": str(card.public_id), "purpose": "gift", "recipient_email": "alice@example.test", **fields}
    return manager.post(reverse("api:program_landing_links"), body, format="json")


def test_a_minted_link_is_shown_once_and_then_only_masked(manager: HttpsApiClient, gift_card: Card) -> None:
    minted = _mint(manager, gift_card, recipient_phone="+15555550123", message="Happy birthday", expires_in_days=7)
    assert minted.status_code == 201, minted.content
    body = minted.json()
    assert body["url"].startswith("http://127.0.0.1:8000/card/")
    assert body["status"] == "active"
    assert body["recipient_phone"] == "•••• 0123"
    assert body["recipient_email"] == "a•••@example.test"
    assert body["delivered_by"] is None
    assert body["created_by"].startswith("api-key:partner")
    assert body["card"] == {"id": str(gift_card.public_id), "product_name": "Gift Card", "last_four": "8210"}

    listed = manager.get(reverse("api:program_landing_links"), {"card": str(gift_card.public_id)})
    detail = manager.get(reverse("api:program_landing_link", args=[body["id"]]))
    for response in (listed, detail):
        text = response.content.decode()
        assert body["url"] not in text
        assert "alice@example.test" not in text
        assert "+15555550123" not in text
    assert listed.json()["results"][0]["id"] == body["id"]
    assert detail.json()["message"] == "Happy birthday"


def test_a_link_can_be_sent_to_the_recipient_at_once(manager: HttpsApiClient, gift_card: Card) -> None:
    body = _mint(manager, gift_card, deliver=True).json()
    assert body["delivered_by"] == "email"
    assert body["url"] in mail.outbox[-1].body


def test_revoking_stops_the_link_and_can_be_repeated(manager: HttpsApiClient, gift_card: Card) -> None:
    link_id = _mint(manager, gift_card).json()["id"]
    url = reverse("api:program_landing_link_revoke", args=[link_id])
    first = manager.post(url)
    assert first.status_code == 200
    assert first.json()["status"] == "revoked"
    assert manager.post(url).json()["revoked_at"] == first.json()["revoked_at"]
    assert LandingLink.objects.get().revoked_by_label.startswith("api-key:partner")
    assert AuditEvent.objects.filter(action="landing.link_revoked").count() == 1


def test_the_service_says_which_field_is_wrong(manager: HttpsApiClient, gift_card: Card) -> None:
    no_contact = _mint(manager, gift_card, recipient_email="")
    assert no_contact.status_code == 400
    assert no_contact.json()["errors"][0]["field"] == "recipient_phone"
    assert no_contact.json()["errors"][0]["code"] == "no_contact"
    bad_phone = _mint(manager, gift_card, recipient_phone="12345")
    assert bad_phone.json()["errors"][0]["field"] == "recipient_phone"
    too_long = _mint(manager, gift_card, expires_in_days=10_000)
    assert too_long.json()["errors"][0]["field"] == "expires_in_days"
    assert not LandingLink.objects.exists()


def test_a_program_manager_mints_within_the_same_caps_as_staff(
    manager: HttpsApiClient, gift_card: Card, settings: Any
) -> None:
    too_many = _mint(manager, gift_card, max_pushes=1000)
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "max_pushes"
    settings.LANDING_LINK_MAX_PUSHES = 2  # the service reads the setting, whatever the schema was built with
    refused = _mint(manager, gift_card, max_pushes=3)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "invalid_max_pushes")
    assert "1 to 2 pushes" in refused.json()["errors"][0]["message"]
    assert not LandingLink.objects.exists()
    assert _mint(manager, gift_card, max_pushes=2).json()["max_pushes"] == 2


def test_a_cardholders_own_card_is_not_sent_by_link(
    manager: HttpsApiClient, program: Program, network_config: NetworkConfiguration
) -> None:
    owned = factories.CardFactory.create(cardholder=factories.CardholderFactory.create(), program=program)
    response = _mint(manager, owned)
    assert response.json()["errors"][0] == {
        "field": "card",
        "code": "card_has_cardholder",
        "message": response.json()["errors"][0]["message"],
    }


def test_another_programs_cards_and_links_do_not_exist_for_this_key(
    manager: HttpsApiClient, gift_card: Card, make_manager: Callable[[Program], HttpsApiClient]
) -> None:
    link_id = _mint(manager, gift_card).json()["id"]
    other = make_manager(factories.ProgramFactory.create())
    assert other.get(reverse("api:program_landing_links")).json()["results"] == []
    assert other.get(reverse("api:program_landing_link", args=[link_id])).status_code == 404
    assert other.post(reverse("api:program_landing_link_revoke", args=[link_id])).status_code == 404
    assert other.get(reverse("api:program_card_pushes", args=[gift_card.public_id])).status_code == 404
    response = _mint(other, gift_card)
    assert response.json()["errors"][0]["field"] == "card"
    assert LandingLink.objects.get().revoked_at is None


def test_a_cards_push_history_shows_what_happened_to_that_card(
    manager: HttpsApiClient,
    program: Program,
    requestors: NetworkConfiguration,
    issue_token: Callable[..., str],
) -> None:
    holder = factories.CardholderFactory.create()
    card = factories.CardFactory.create(cardholder=holder, program=program)
    app = HttpsApiClient()
    app.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(holder)}")
    started = app.post(
        reverse("api:my_pushes"),
        {"cards": [str(card.public_id)], "token_requestor": DEMOPAY, "platform": "IOS"},
        format="json",
        headers={"Idempotency-Key": "history-1"},
    ).json()
    history = manager.get(reverse("api:program_card_pushes", args=[card.public_id]))
    assert history.status_code == 200
    (push,) = history.json()["results"]
    assert push["id"] == started["id"]
    assert push["channel"] == "api"
    assert push["landing_link"] is None
    assert push["card"]["state"] == "issued"
    assert push["card"]["outcome"]["heading"] == "Not finished"
    assert started["receipts"][0]["receipt"] not in history.content.decode()
