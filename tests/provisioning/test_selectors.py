"""Which token requestors a cardholder is offered: the staff's choice, the card's range, the device."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cardholders.models import Card
from provisioning import refresh
from provisioning.devices import device_environment
from provisioning.models import CardToken, CardTokenCheck, EnabledAccountRange, PushReceipt, TokenRequestor
from provisioning.requestor_cache import token_requestors_changed
from provisioning.selectors import token_requestors_eligible, token_requestors_holding_cards
from tests.factories import TEST_CARD_NUMBERS, CardFactory
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import CardTokenFactory, PushFactory, TokenRequestorFactory
from users.models import User

pytestmark = pytest.mark.django_db

ANDROID_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
IPHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def _requestor(name: str, methods: list[str], ranges: list[str], **fields: object) -> TokenRequestor:
    fields.setdefault("offered", True)
    requestor = TokenRequestorFactory.create(
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
    second = CardFactory.create(cardholder=card.cardholder, card_number=TEST_CARD_NUMBERS[1])
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
    token_requestors_changed()  # as the refresh that lists them does
    with CaptureQueriesContext(connection) as many:
        assert len(token_requestors_eligible(cards=[card], device="WEB")) == 11
    assert len(many) == len(few)


def test_a_repeated_read_costs_no_query(card: Card) -> None:
    wallet = _requestor("Alpha Wallet", ["WEB"], [card.account_range_start])
    assert token_requestors_eligible(cards=[card], device="WEB") == [wallet]
    with CaptureQueriesContext(connection) as again:
        assert token_requestors_eligible(cards=[card], device="WEB") == [wallet]
    assert len(again) == 0


def test_a_staff_edit_is_visible_at_once(card: Card, staff_user: User) -> None:
    wallet = _requestor("Alpha Wallet", ["WEB"], [card.account_range_start])
    assert token_requestors_eligible(cards=[card], device="WEB") == [wallet]
    response = staff_client(staff_user).post(
        reverse("admin:provisioning_tokenrequestor_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(wallet.pk),
            "form-0-display_order": "0",
            "_save": "Save",
        },
    )  # "offered" unticked
    assert response.status_code == 302
    assert token_requestors_eligible(cards=[card], device="WEB") == []


@override_settings(PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS=True)
def test_a_refresh_is_visible_at_once(sandbox_network_config: object, card: Card) -> None:
    assert token_requestors_eligible(cards=[card], device="WEB") == []
    refresh.token_requestors_refresh()
    names = {requestor.consumer_facing_name for requestor in token_requestors_eligible(cards=[card], device="WEB")}
    assert "DemoPay" in names


# --- where a card already is (the marks on the choice step) ---------------------------------------------------------
def _confirmed_push(card: Card, requestor: TokenRequestor) -> None:
    """A push of `card` that the token requestor's callback reported APPROVED."""
    push = PushFactory.create(card=card, token_requestor=requestor, state="redirected")
    push.transition_to("returned")
    push.save()
    receipt = push.receipts.get()
    receipt.transition_to(PushReceipt.State.USED)
    receipt.result = PushReceipt.Result.APPROVED
    receipt.used_at = timezone.now()
    receipt.save()


def test_a_card_is_where_it_has_a_live_token_active_or_paused(card: Card) -> None:
    active, paused, removed, hidden, setting_up = TokenRequestorFactory.create_batch(5)
    CardTokenFactory.create(card=card, token_requestor=active)
    CardTokenFactory.create(card=card, token_requestor=paused, status=CardToken.Status.SUSPENDED, suspenders=["I"])
    CardTokenFactory.create(card=card, token_requestor=removed, status=CardToken.Status.DELETED)
    CardTokenFactory.create(card=card, token_requestor=hidden, deleted_from_consumer_app=True)
    CardTokenFactory.create(card=card, token_requestor=setting_up, status=CardToken.Status.IN_PROGRESS)
    with CaptureQueriesContext(connection) as queries:
        holding = token_requestors_holding_cards(cards=[card])
    assert set(holding) == {active.pk, paused.pk}
    assert set(holding[active.pk]) == {card.pk}
    assert len(queries) == 2


def test_a_token_record_outranks_a_confirmed_push_to_the_same_requestor(card: Card) -> None:
    requestor = TokenRequestorFactory.create()
    _confirmed_push(card, requestor)
    CardTokenFactory.create(card=card, token_requestor=requestor, status=CardToken.Status.DELETED)
    assert token_requestors_holding_cards(cards=[card]) == {}


def test_confirmed_pushes_count_only_for_a_card_the_network_was_never_asked_about(card: Card) -> None:
    requestor = TokenRequestorFactory.create()
    _confirmed_push(card, requestor)
    assert set(token_requestors_holding_cards(cards=[card])) == {requestor.pk}
    CardTokenCheck.objects.create(card=card, checked_at=timezone.now())  # it answered: no token there
    assert token_requestors_holding_cards(cards=[card]) == {}
