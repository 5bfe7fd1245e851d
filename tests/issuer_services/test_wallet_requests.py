"""The Wallet requests page: a card typed into the sandbox's wallet waits for the cardholder, who approves or declines
it on the portal after a fresh second factor; the portal tells the network (Customer Service API, over HTTP) and the
wallet then shows the result."""

import re
import time
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from issuer_services.models import DecisionRules, TokenAlert, TokenizationRequest
from provisioning.models import CardToken
from tests import factories
from tests.fixtures.sandbox_server import SandboxServer
from tests.https_client import signed_in
from tests.wallet import wallet_form_post, wallet_method_index
from users.models import User
from users.step_up import SESSION_KEY, SESSION_USER_KEY

pytestmark = pytest.mark.django_db(transaction=True)

State = TokenizationRequest.State


@pytest.fixture
def alice(alice_card: Card) -> User:
    assert alice_card.cardholder is not None
    return alice_card.cardholder.user


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _website_chosen(sandbox: SandboxServer, page: requests.Response) -> requests.Response:
    """The person picks "Approve it on your bank's website" in the wallet, which then waits."""
    website = wallet_method_index(page, "Approve it on your bank&#39;s website")
    return wallet_form_post(sandbox, page, "method", method=website)


def _sandbox_status(sandbox: SandboxServer) -> str:
    [token] = sandbox.tokens()
    return str(token["CurrentStatusCode"])


def test_the_page_lists_the_waiting_request_with_its_wallet_device_card_and_deadline(
    waiting: tuple[requests.Response, TokenizationRequest], alice: User
) -> None:
    _, record = waiting

    page = _text(signed_in(alice).get(reverse("wallet_requests:list")).content.decode())

    assert "DemoPay wants to add your card •••• 4444" in page
    assert "Pixel 9 (sandbox)" in page
    assert "Answer by" in page
    assert "No wallet request is waiting for you." not in page
    lifetime = record.expires_at - record.created_at
    assert abs(lifetime - timedelta(hours=24)) < timedelta(seconds=5)  # ISSUER_SERVICES_PENDING_HOURS


def test_the_home_page_points_to_a_waiting_request(
    waiting: tuple[requests.Response, TokenizationRequest], alice: User
) -> None:
    home = _text(signed_in(alice).get(reverse("home")).content.decode())

    assert "A wallet is waiting for you to approve your card. Approve or decline" in home


def test_approving_activates_the_token_in_the_network_and_the_wallet_adds_the_card(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User
) -> None:
    wallet_page, record = waiting
    wallet_page = _website_chosen(wallet, wallet_page)

    answered = signed_in(alice).post(reverse("wallet_requests:approve", args=[record.public_id]), follow=True)

    assert _messages(answered) == ["Approved: Everyday Debit •••• 4444 is ready to use in DemoPay."]
    assert _sandbox_status(wallet) == "A"
    record.refresh_from_db()
    assert (record.state, record.activation_method) == (State.ACTIVATED, "CARDHOLDER_TO_VISIT_WEBSITE")
    assert CardToken.objects.get().status == CardToken.Status.ACTIVE
    event = AuditEvent.objects.get(action="token.activated")
    assert (event.outcome, event.actor_id) == (AuditEvent.Outcome.SUCCESS, alice.pk)
    assert "Approved" in _text(answered.content.decode())  # now among the earlier requests
    assert "Card added to DemoPay" in wallet_form_post(wallet, wallet_page, "check").text  # notifyServiceActivated
    assert not TokenAlert.objects.exists()  # approved here, signed in and stepped up: no "Was this you?"


def test_declining_deletes_the_token_and_the_wallet_says_so(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User
) -> None:
    wallet_page, record = waiting
    wallet_page = _website_chosen(wallet, wallet_page)

    answered = signed_in(alice).post(reverse("wallet_requests:decline", args=[record.public_id]), follow=True)

    assert _messages(answered) == ["Declined: Everyday Debit •••• 4444 was not added to DemoPay."]
    assert _sandbox_status(wallet) == "D"
    record.refresh_from_db()
    assert record.state == State.DECLINED
    assert CardToken.objects.get().status == CardToken.Status.DELETED
    assert "You declined this request with your bank." in wallet_form_post(wallet, wallet_page, "check").text


def test_an_answer_needs_a_fresh_second_factor_and_comes_back_to_the_same_request(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User
) -> None:
    _, record = waiting
    client = signed_in(alice, stepped_up=False)
    approve = reverse("wallet_requests:approve", args=[record.public_id])

    asked = client.post(approve)

    assert asked.status_code == 302
    assert asked["Location"] == f"{reverse('step_up')}?next={approve.replace('/', '%2F')}"
    code_page = _text(client.get(asked["Location"]).content.decode())
    assert "You are approving this wallet request: DemoPay on Pixel 9 (sandbox) wants Everyday Debit •••• 4444" in (
        code_page
    )
    assert _sandbox_status(wallet) == "U"  # nothing was sent
    session = client.session
    session[SESSION_KEY], session[SESSION_USER_KEY] = time.time(), alice.pk
    session.save()
    confirm = _text(client.get(approve).content.decode())
    assert "Add your card to DemoPay?" in confirm
    assert "Approve only if you added it yourself." in confirm


def test_an_expired_request_cannot_be_answered_and_the_page_says_it_expired(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User
) -> None:
    _, record = waiting
    TokenizationRequest.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    answered = signed_in(alice).post(reverse("wallet_requests:approve", args=[record.public_id]), follow=True)

    assert _messages(answered) == ["This request expired. To add the card, start again in the wallet."]
    page = _text(answered.content.decode())
    assert "No wallet request is waiting for you." in page
    assert "Expired · nobody answered by" in page
    assert _sandbox_status(wallet) == "U"
    refused = AuditEvent.objects.get(action="wallet_request.approved")
    assert refused.outcome == AuditEvent.Outcome.FAILURE
    assert refused.detail.startswith("refused (expired)")


def test_a_request_is_answered_once(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User
) -> None:
    _, record = waiting
    client = signed_in(alice)
    client.post(reverse("wallet_requests:approve", args=[record.public_id]), follow=True)

    again = client.post(reverse("wallet_requests:decline", args=[record.public_id]), follow=True)

    assert _messages(again) == ["You already approved this request."]
    assert _sandbox_status(wallet) == "A"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (429, "The card network cannot be reached just now. Nothing was changed; please try again later."),
        (503, "The card network did not confirm the change in time. We are checking; look again in a minute."),
    ],
)
def test_when_the_network_does_not_take_the_answer_the_request_still_waits_and_the_cardholder_is_told(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User, status: int, words: str
) -> None:
    _, record = waiting
    wallet.fail_next(status, count=3)

    answered = signed_in(alice).post(reverse("wallet_requests:approve", args=[record.public_id]), follow=True)

    assert _messages(answered) == [words]
    record.refresh_from_db()
    assert record.state == State.PENDING
    assert "DemoPay wants to add your card •••• 4444" in _text(answered.content.decode())
    failure = AuditEvent.objects.get(action="token.activated")
    assert failure.outcome == AuditEvent.Outcome.FAILURE


def test_another_cardholders_request_is_not_found(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer
) -> None:
    _, record = waiting
    bob = factories.CardholderFactory.create().user

    client = signed_in(bob)

    assert client.post(reverse("wallet_requests:approve", args=[record.public_id])).status_code == 404
    assert "No wallet request is waiting for you." in client.get(reverse("wallet_requests:list")).content.decode()
    assert _sandbox_status(wallet) == "U"


def test_requests_the_bank_decided_alone_are_not_listed(ask: Any, alice: User) -> None:
    DecisionRules.objects.update_or_create(pk=1, defaults={"manual_decision": "APPROVED", "new_device_step_up": False})
    assert ask().status == 200

    page = _text(signed_in(alice).get(reverse("wallet_requests:list")).content.decode())

    assert TokenizationRequest.objects.get().state == State.APPROVED
    assert "No wallet request is waiting for you." in page
    assert "Earlier requests" not in page


def test_a_token_the_network_already_activated_is_approved_without_asking_again(
    waiting: tuple[requests.Response, TokenizationRequest], wallet: SandboxServer, alice: User
) -> None:
    """An approval whose answer was lost: the network did activate it, and a refresh recorded that since."""
    _, record = waiting
    CardToken.objects.update(status=CardToken.Status.ACTIVE)
    asked_before = len(wallet.request_log())

    answered = signed_in(alice).post(reverse("wallet_requests:approve", args=[record.public_id]), follow=True)

    assert _messages(answered) == ["Approved: Everyday Debit •••• 4444 is ready to use in DemoPay."]
    assert len(wallet.request_log()) == asked_before  # nothing sent
    record.refresh_from_db()
    assert record.state == State.ACTIVATED
    assert AuditEvent.objects.get(action="wallet_request.approved").detail.startswith("the network already holds")
