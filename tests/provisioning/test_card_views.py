"""Where the cardholder's cards are, on the home page, and pausing, resuming and removing a card where it lives.

The portal runs under Django's test client; where the network is asked, it is the real sandbox over HTTP.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from core.card_numbers import luhn_valid
from provisioning import card_views
from provisioning.models import CardToken, CardTokenCheck, LogoAsset, NetworkConfiguration, TokenRequestor
from provisioning.tokens import card_tokens_refresh
from tests import factories
from tests.fixtures.sandbox_server import SandboxServer
from tests.https_client import signed_in
from tests.provisioning.factories import CardTokenFactory, TokenRequestorFactory
from users.models import User

pytestmark = pytest.mark.django_db

DEMOPAY, SUNDAY_STORE = "50100000011", "50100000022"


def _places(html: str) -> list[str]:
    """The rows under the cards, one per wallet or merchant where a card lives, as a person reads them."""
    rows = re.findall(r'<li class="place">(.*?)</li>', html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _card_number(n: int) -> str:
    """A Luhn-valid number in the demo issuer's first account range, one per `n`."""
    body = f"555555555{n:06d}"
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


@pytest.fixture
def holder(card: Card) -> User:
    assert card.cardholder is not None
    return card.cardholder.user


def test_the_home_page_says_where_each_card_lives_in_plain_words(card: Card, holder: User) -> None:
    since = timezone.now() - timedelta(days=3)
    CardTokenFactory.create(card=card, status_at=since)
    CardTokenFactory.create(
        card=card,
        token_requestor__consumer_facing_name="Sunday Store",
        token_requestor__requestor_type=TokenRequestor.Type.MERCHANT,
        device_name="",
        device_type="",
        status=CardToken.Status.SUSPENDED,
        suspenders=["I"],
        portal_suspenders=["cardholder"],
    )
    CardTokenFactory.create(card=card, device_name="Galaxy Watch", device_type="23", status="S", suspenders=["I"])
    CardTokenFactory.create(card=card, device_name="iPad", device_type="", status=CardToken.Status.IN_PROGRESS)
    CardTokenFactory.create(card=card, device_name="Old phone", status=CardToken.Status.DELETED)
    CardTokenFactory.create(card=card, device_name="Lost phone", deleted_from_consumer_app=True)

    html = signed_in(holder, stepped_up=False).get(reverse("home")).content.decode()

    rows = _places(html)
    assert len(rows) == 4  # the removed ones are not where the card lives
    assert any(row.startswith("DemoPay Pixel 8 · phone Active · since") for row in rows), rows
    assert any(row.startswith("Sunday Store Paused by you · since") and "Resume" in row for row in rows), rows
    watch = next(row for row in rows if "Galaxy Watch · watch" in row)
    assert "Paused by your bank" in watch
    assert "call us on the number on the back of your card" in watch
    assert "Resume" not in watch
    assert any(row.startswith("DemoPay iPad Being set up") for row in rows), rows
    assert "Old phone" not in " ".join(rows)
    assert "Removed from 2 places" in html  # quietly, folded away
    assert "Checked just now" in html


def test_a_card_never_checked_offers_to_check_now(card: Card, holder: User) -> None:
    html = signed_in(holder, stepped_up=False).get(reverse("home")).content.decode()
    assert "Not checked yet" in html
    assert "Check now" in html


def test_when_the_network_last_checked_is_said_in_minutes(card: Card, holder: User) -> None:
    CardTokenCheck.objects.create(card=card, checked_at=timezone.now() - timedelta(minutes=5))
    html = signed_in(holder, stepped_up=False).get(reverse("home")).content.decode()
    assert "Checked 5\xa0minutes ago" in html  # timesince keeps the number with its unit
    assert "Not in any wallet or at any merchant." in html


def _home_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


def test_the_home_page_costs_the_same_queries_with_ten_times_the_cards_and_tokens(
    network_config: NetworkConfiguration, cardholder: Cardholder
) -> None:
    logo = LogoAsset.objects.create(asset_id="demopay", svg="<svg/>")
    requestor = TokenRequestorFactory.create(logo=logo)
    first = factories.CardFactory.create(cardholder=cardholder, card_number=_card_number(0))
    CardTokenFactory.create(card=first, token_requestor=requestor)
    client = signed_in(cardholder.user, stepped_up=False)
    client.get(reverse("home"))  # the session and caches warm
    one = _home_queries(client)

    for n in range(1, 10):
        card = factories.CardFactory.create(cardholder=cardholder, card_number=_card_number(n))
        CardTokenCheck.objects.create(card=card, checked_at=timezone.now())
        CardTokenFactory.create(card=card, token_requestor=requestor)
        CardTokenFactory.create(card=card, status=CardToken.Status.SUSPENDED, suspenders=["I"])
        CardTokenFactory.create(card=card, status=CardToken.Status.DELETED)
    CardTokenFactory.create_batch(2, card=first)

    assert _home_queries(client) == one
    assert len(_places(client.get(reverse("home")).content.decode())) == 21


@pytest.mark.parametrize("change", ["pause", "resume", "remove"])
def test_another_cardholders_token_is_not_found(card: Card, change: str) -> None:
    token = CardTokenFactory.create(card=card, status="S", suspenders=["C"], portal_suspenders=["cardholder"])
    stranger = factories.CardholderFactory.create().user
    client = signed_in(stranger)
    url = reverse(f"provisioning:token_{change}", args=[token.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"where": "everywhere"}).status_code == 404
    assert client.post(reverse("provisioning:card_tokens_check", args=[card.public_id])).status_code == 404
    token.refresh_from_db()
    assert token.status == CardToken.Status.SUSPENDED
    assert not token.deleted_from_consumer_app


def test_a_change_needs_a_fresh_second_factor_and_comes_back_to_the_same_change(card: Card, holder: User) -> None:
    token = CardTokenFactory.create(card=card)
    client = signed_in(holder, stepped_up=False)
    page = reverse("provisioning:token_pause", args=[token.public_id])

    refused = client.post(page)
    assert refused.status_code == 302
    assert refused["Location"] == f"{reverse('step_up')}?next={page.replace('/', '%2F')}"
    token.refresh_from_db()
    assert token.status == CardToken.Status.ACTIVE

    step_up = client.get(refused["Location"])
    text = step_up.content.decode()
    assert "You are pausing this card:" in text
    assert "Everyday Debit •••• 4444 in DemoPay on Pixel 8" in text
    assert "Before you change where your card can pay" in text

    from django.core import mail

    client.post(reverse("step_up"), {"action": "send", "channel": "email", "next": page})
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code
    passed = client.post(reverse("step_up"), {"action": "verify_code", "code": code.group(1), "next": page})
    assert passed["Location"] == page
    confirmation = client.get(page).content.decode()
    assert "Pause Everyday Debit in DemoPay on Pixel 8?" in confirmation
    assert "Payments with this card in DemoPay on Pixel 8 stop until you resume it." in confirmation


def test_a_card_the_bank_paused_offers_no_resume_and_a_forged_resume_is_refused(card: Card, holder: User) -> None:
    token = CardTokenFactory.create(card=card, status=CardToken.Status.SUSPENDED, suspenders=["I"])
    client = signed_in(holder)
    row = _places(client.get(reverse("home")).content.decode())[0]
    assert "Paused by your bank" in row
    assert "Resume" not in row
    page = reverse("provisioning:token_resume", args=[token.public_id])
    confirmation = client.get(page).content.decode()
    assert "call us on the number on the back of your card" in confirmation
    assert 'type="submit"' not in confirmation.split("<main", 1)[1]

    forged = client.post(page, follow=True)

    assert forged.redirect_chain[-1][0] == reverse("home")
    assert _messages(forged) == [
        "Your bank or the wallet paused this card: only they can resume it. Call us if you need help."
    ]
    token.refresh_from_db()
    assert token.status == CardToken.Status.SUSPENDED
    event = AuditEvent.objects.get(action="token.resumed")
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert "suspended_by_other" in event.detail


def test_a_merchant_token_cannot_be_removed_from_a_device_only(card: Card, holder: User) -> None:
    token = CardTokenFactory.create(card=card, device_name="", device_type="")
    client = signed_in(holder)
    page = reverse("provisioning:token_remove", args=[token.public_id])
    confirmation = client.get(page).content.decode()
    assert "only</button>" not in confirmation
    refused = client.post(page, {"where": "device"}, follow=True)
    assert _messages(refused) == ["Choose where to remove the card from."]
    token.refresh_from_db()
    assert token.is_live


# --- through the sandbox's MDES ----------------------------------------------------------------------------------
@pytest.fixture
def stepped_up(portal: Client) -> Client:
    """The cardholder signed in and stepped up by e-mail code, the code page's "We sent a code" message read."""
    portal.get(reverse("home"))
    return portal


@pytest.fixture
def in_demopay(stepped_up: Client, card: Card, sandbox: SandboxServer) -> CardToken:
    """The card in DemoPay on a Pixel 8, as the sandbox's MDES holds it and a refresh recorded it."""
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, deviceName="Pixel 8", deviceType="21"
    )
    card_tokens_refresh(card)
    return CardToken.objects.get(card=card)


def _sandbox_token(sandbox: SandboxServer, token: CardToken) -> dict[str, Any]:
    return next(t for t in sandbox.tokens() if t["TokenUniqueReference"] == token.token_unique_reference)


def test_the_cardholder_pauses_resumes_and_removes_a_card_from_the_phone(
    stepped_up: Client, card: Card, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    pause = reverse("provisioning:token_pause", args=[in_demopay.public_id])
    paused = stepped_up.post(pause, follow=True)
    assert _messages(paused) == [
        "Everyday Debit is paused in DemoPay on Pixel 8. Payments there stop until you resume it."
    ]
    assert _sandbox_token(sandbox, in_demopay)["CurrentStatusCode"] == "S"
    assert "Paused by you" in _places(paused.content.decode())[0]

    resumed = stepped_up.post(reverse("provisioning:token_resume", args=[in_demopay.public_id]), follow=True)
    assert _messages(resumed) == ["Everyday Debit works again in DemoPay on Pixel 8."]
    assert _sandbox_token(sandbox, in_demopay)["CurrentStatusCode"] == "A"

    remove = reverse("provisioning:token_remove", args=[in_demopay.public_id])
    assert "Remove from this phone only" in stepped_up.get(remove).content.decode()
    removed = stepped_up.post(remove, {"where": "device"}, follow=True)
    assert _messages(removed) == ["Everyday Debit is removed from DemoPay on Pixel 8."]
    assert _sandbox_token(sandbox, in_demopay)["TokenDeletedFromConsumerApp"] in (True, "true")
    assert _places(removed.content.decode()) == []
    assert "Removed from 1 place" in removed.content.decode()
    actions = list(
        AuditEvent.objects.filter(action__startswith="token.").order_by("id").values_list("action", "outcome")
    )
    assert actions == [("token.suspended", "success"), ("token.resumed", "success"), ("token.removed", "success")]


def test_removing_everywhere_deletes_the_token_in_the_network(
    stepped_up: Client, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    removed = stepped_up.post(
        reverse("provisioning:token_remove", args=[in_demopay.public_id]), {"where": "everywhere"}, follow=True
    )
    assert _messages(removed) == ["Everyday Debit is removed from DemoPay everywhere."]
    assert _sandbox_token(sandbox, in_demopay)["CurrentStatusCode"] == "D"


def test_a_card_paused_by_the_cardholder_and_the_bank_offers_no_resume(card: Card, holder: User) -> None:
    CardTokenFactory.create(
        card=card, status=CardToken.Status.SUSPENDED, suspenders=["I"], portal_suspenders=["cardholder", "issuer"]
    )
    row = _places(signed_in(holder).get(reverse("home")).content.decode())[0]
    assert "Paused by you and your bank" in row
    assert "Resume" not in row


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (429, "The card network cannot be reached just now. Nothing was changed; please try again later."),
        (503, "The card network did not confirm the change in time. We are checking; look again in a minute."),
    ],
)
def test_when_the_network_does_not_take_the_change_the_cardholder_is_told(
    stepped_up: Client, in_demopay: CardToken, sandbox: SandboxServer, status: int, words: str
) -> None:
    sandbox.fail_next(status, count=3)
    refused = stepped_up.post(reverse("provisioning:token_pause", args=[in_demopay.public_id]), follow=True)
    assert _messages(refused) == [words]
    in_demopay.refresh_from_db()
    assert in_demopay.status == CardToken.Status.ACTIVE


def test_check_again_asks_the_network_and_says_so(stepped_up: Client, card: Card, sandbox: SandboxServer) -> None:
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=SUNDAY_STORE, deviceType=None, deviceName=None
    )
    checked = stepped_up.post(reverse("provisioning:card_tokens_check", args=[card.public_id]), follow=True)
    assert checked.redirect_chain[-1][0] == reverse("home")
    assert _messages(checked) == ["We asked the card network just now where Everyday Debit •••• 4444 is."]
    assert _places(checked.content.decode())[0].startswith("Sunday Store Active")
    assert "Checked just now" in checked.content.decode()


def test_check_again_is_limited_per_cardholder(
    stepped_up: Client, card: Card, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(card_views, "CHECKS_PER_WINDOW", 2)
    check = reverse("provisioning:card_tokens_check", args=[card.public_id])
    for _ in range(2):
        stepped_up.post(check)
    asked = len(sandbox.request_log())
    limited = stepped_up.post(check, follow=True)
    assert _messages(limited)[-1] == "You asked many times in a short time. You can check again in 10 minutes."
    assert len(sandbox.request_log()) == asked
    assert AuditEvent.objects.filter(action="card_tokens.check_rate_limited").count() == 1


def test_check_again_when_the_network_cannot_answer_says_how_old_the_records_are(
    stepped_up: Client, card: Card, in_demopay: CardToken, sandbox: SandboxServer
) -> None:
    CardTokenCheck.objects.filter(card=card).update(checked_at=timezone.now() - timedelta(hours=2))
    sandbox.fail_next(503, count=20)  # the inline question and the background's tries
    checked = stepped_up.post(reverse("provisioning:card_tokens_check", args=[card.public_id]), follow=True)
    [message] = _messages(checked)
    assert message.startswith(
        "We could not ask the card network just now. What you see for Everyday Debit •••• 4444 is from "
    )
    assert "Checked 2\xa0hours ago" in checked.content.decode()
    assert _places(checked.content.decode())[0].startswith("DemoPay Pixel 8")
    assert AuditEvent.objects.get(action="card_tokens.check_failed").outcome == AuditEvent.Outcome.FAILURE


def test_the_wallet_step_marks_where_the_card_lives_from_its_token_records(stepped_up: Client, card: Card) -> None:
    demopay = TokenRequestor.objects.get(trid=DEMOPAY)
    CardTokenFactory.create(card=card, token_requestor=demopay)
    CardTokenFactory.create(
        card=card, token_requestor=TokenRequestor.objects.get(trid=SUNDAY_STORE), status=CardToken.Status.DELETED
    )
    CardTokenCheck.objects.create(card=card, checked_at=timezone.now())
    page = stepped_up.get(reverse("provisioning:choose"), {"card": str(card.public_id)}).content.decode()
    options = {
        name: " ".join(re.sub(r"<[^>]+>", " ", body).split())
        for name, body in re.findall(r'<span class="requestor-name">([^<]+)</span>(.*?)</label>', page, flags=re.S)
    }
    assert "Everyday Debit is already there" in options["DemoPay"]
    assert "already there" not in options["Sunday Store"]
