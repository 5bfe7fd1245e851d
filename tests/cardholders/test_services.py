import pytest

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from cardholders.services import CardNotInAccountRangeError, card_create
from provisioning.models import NetworkConfiguration
from tests.factories import CardFactory

pytestmark = pytest.mark.django_db


def test_card_is_placed_in_the_longest_matching_account_range(
    network_config: NetworkConfiguration, cardholder: Cardholder
) -> None:
    network_config.account_ranges.create(start="5555555555")
    card = CardFactory.create(cardholder=cardholder)
    assert card.account_range_start == "5555555555000000000"


def test_card_outside_every_account_range_is_refused(network_config: NetworkConfiguration) -> None:
    with pytest.raises(CardNotInAccountRangeError):
        card_create(
            card_number="4111111111111111",
            account_range_starts=["555555555"],
            expiry_month=1,
            expiry_year=2030,
            product_kind="debit",
            product_name="X",
        )
    assert not Card.objects.exists()


def test_card_creation_is_audited_with_the_masked_number_only(card: Card) -> None:
    event = AuditEvent.objects.get(action="card.created")
    assert event.object_id == str(card.pk)
    assert event.after == {"state": "active", "product_kind": "debit", "masked_number": "555555••••••4444"}


def test_the_same_card_number_cannot_be_registered_twice(card: Card) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        CardFactory.create()
