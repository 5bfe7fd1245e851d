"""Which token requestors a cardholder is offered: the staff's choice, the card's range, the device."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cardholders.models import Card
from provisioning.devices import device_environment
from provisioning.models import EnabledAccountRange, TokenRequestor
from provisioning.selectors import token_requestors_eligible
from tests.factories import TEST_CARD_NUMBERS, make_card
from tests.provisioning.factories import make_token_requestor

pytestmark = pytest.mark.django_db

ANDROID_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
IPHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def _requestor(name: str, methods: list[str], ranges: list[str], **fields: object) -> TokenRequestor:
    fields.setdefault("offered", True)
    requestor = make_token_requestor(
        consumer_facing_name=name,
        push_methods=[{"type": t, "uri": f"https://{name.lower()}.example/{t.lower()}"} for t in methods],
        **fields,
    )
    for start in ranges:
        EnabledAccountRange.objects.create(token_requestor=requestor, range_start=start)
    return requestor


@pytest.mark.parametrize(("agent", "device"), [(ANDROID_UA, "ANDROID"), (IPHONE_UA, "IOS"), (DESKTOP_UA, "WEB")])
def test_device_environment_from_user_agent(agent: str, device: str) -> None:
    assert device_environment(agent) == device


def test_only_offered_live_requestors_enabled_for_the_card_and_usable_here_in_staff_order(card: Card) -> None:
    card_range = card.account_range_start
    later = _requestor("Zeta Wallet", ["WEB"], [card_range], display_order=2)
    first = _requestor("Alpha Wallet", ["ANDROID", "WEB"], [card_range], display_order=1)
    app_only = _requestor("AppOnly Pay", ["ANDROID"], [card_range])
    _requestor("Other Range Pay", ["WEB"], ["5105105100000000000"])
    _requestor("Hidden Pay", ["WEB"], [card_range], offered=False)
    _requestor("Gone Pay", ["WEB"], [card_range], offered=False, retired_at=timezone.now())

    assert token_requestors_eligible(cards=[card], device="WEB") == [first, later]
    assert token_requestors_eligible(cards=[card], device="ANDROID") == [app_only, first, later]  # order 0, 1, 2
    assert app_only not in token_requestors_eligible(cards=[card], device="IOS")


def test_several_cards_only_where_the_requestor_takes_several_and_all_their_ranges(card: Card) -> None:
    second = make_card(cardholder=card.cardholder, card_number=TEST_CARD_NUMBERS[1])
    ranges = [card.account_range_start, second.account_range_start]
    single = _requestor("Single Pay", ["WEB"], ranges)
    multi = _requestor("Multi Store", ["WEB"], ranges, supports_multiple_pushed_cards=True)
    _requestor("Half Store", ["WEB"], ranges[:1], supports_multiple_pushed_cards=True)
    assert token_requestors_eligible(cards=[card, second], device="WEB") == [multi]
    assert single in token_requestors_eligible(cards=[card], device="WEB")
    assert token_requestors_eligible(cards=[card] * 6, device="WEB") == []


def test_query_count_does_not_grow_with_requestors(card: Card) -> None:
    _requestor("One", ["WEB"], [card.account_range_start])
    with CaptureQueriesContext(connection) as few:
        token_requestors_eligible(cards=[card], device="WEB")
    for number in range(10):
        _requestor(f"More{number}", ["WEB"], [card.account_range_start])
    with CaptureQueriesContext(connection) as many:
        assert len(token_requestors_eligible(cards=[card], device="WEB")) == 11
    assert len(many) == len(few)
