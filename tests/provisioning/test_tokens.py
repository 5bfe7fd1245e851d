"""Where each card lives, and changing it: the token records follow the network (the sandbox's Customer Service
API, over HTTP), and the rules of who may change what hold whatever the interface."""

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning import tasks
from provisioning.models import CardToken, CardTokenCheck, NetworkCheck, NetworkConfiguration, PushReceipt
from provisioning.tokens import (
    TokenActor,
    TokenChangeRefused,
    TokenChangeUnknown,
    card_tokens_refresh,
    cardholder_may_resume,
    cards_due_for_token_refresh,
    token_activate,
    token_remove,
    token_resume,
    token_suspend,
)
from tests import factories
from tests.fixtures.sandbox_server import SandboxServer
from tests.wallet import callback_opened, pushed_and_decided
from users.models import User

pytestmark = pytest.mark.django_db

DEMOPAY = "50100000011"
SHOPRIGHT = "50100000033"


@pytest.fixture
def card(sandbox_network_config: NetworkConfiguration, cardholder: Any) -> Card:
    card: Card = factories.CardFactory.create(cardholder=cardholder)
    return card


@pytest.fixture
def in_demopay(sandbox: SandboxServer, card: Card) -> CardToken:
    """The card in DemoPay on a phone, as the network knows it, and the portal's record of it."""
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, deviceName="Pixel 8", deviceType="21"
    )
    card_tokens_refresh(card)
    return CardToken.objects.get(card=card)


def _role(name: str) -> User:
    user: User = factories.UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    return user


def _holder(token: CardToken) -> TokenActor:
    assert token.card.cardholder is not None
    return TokenActor.cardholder(token.card.cardholder.user)


@pytest.fixture
def operations() -> TokenActor:
    return TokenActor.staff(_role("Operations"))


def _network_token(sandbox: SandboxServer, token: CardToken) -> dict[str, Any]:
    (found,) = [t for t in sandbox.tokens() if t["TokenUniqueReference"] == token.token_unique_reference]
    return found


def test_a_refresh_records_each_token_of_the_card_with_its_device_and_requestor(
    sandbox: SandboxServer, card: Card
) -> None:
    sandbox.create_token(
        accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, deviceName="Pixel 8", deviceType="21"
    )
    sandbox.create_token(accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=SHOPRIGHT, status="U")
    sandbox.create_token(accountNumber=factories.TEST_CARD_NUMBERS[1], tokenRequestorId=DEMOPAY)  # another card

    check = card_tokens_refresh(card)

    tokens = {token.trid: token for token in CardToken.objects.filter(card=card)}
    assert set(tokens) == {DEMOPAY, SHOPRIGHT}
    assert (tokens[DEMOPAY].status, tokens[DEMOPAY].device_name, tokens[DEMOPAY].device_type) == ("A", "Pixel 8", "21")
    assert tokens[SHOPRIGHT].status == CardToken.Status.IN_PROGRESS
    assert check.checked_at is not None
    assert check.failure == ""


def test_the_account_number_goes_to_the_network_only_encrypted(sandbox: SandboxServer, card: Card) -> None:
    card_tokens_refresh(card)
    (search,) = [entry for entry in sandbox.request_log() if entry["path"].endswith("/search")]
    assert factories.TEST_CARD_NUMBERS[0] not in str(search)


def test_a_refresh_the_network_cannot_answer_keeps_the_records_and_says_why(
    sandbox: SandboxServer, in_demopay: CardToken
) -> None:
    sandbox.fail_next(503)
    with pytest.raises(Exception, match="unavailable"):
        card_tokens_refresh(in_demopay.card)
    check = CardTokenCheck.objects.get(card=in_demopay.card)
    assert "503" in check.failure
    assert CardToken.objects.filter(pk=in_demopay.pk, status="A").exists()


def test_a_push_that_the_network_confirms_leaves_the_token_record_at_once(portal: Any, card: Card) -> None:
    callback_opened(portal, pushed_and_decided(portal, card, "APPROVED"))
    receipt = PushReceipt.objects.get()
    assert receipt.network_check == NetworkCheck.CONFIRMED
    token = CardToken.objects.get(card=card)
    assert (token.trid, token.status, token.token_unique_reference) == (DEMOPAY, "A", receipt.token_unique_reference)


def test_a_push_checked_by_the_card_number_lists_the_whole_card(
    portal: Any, card: Card, sandbox: SandboxServer
) -> None:
    sandbox.create_token(accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=SHOPRIGHT)
    callback = urlsplit(pushed_and_decided(portal, card, "APPROVED"))
    # A requestor that reports no token reference: the network is asked by the card number.
    query = [(key, value.split("|")[0]) for key, value in parse_qsl(callback.query)]
    callback_opened(portal, callback._replace(query=urlencode(query)).geturl())
    assert set(CardToken.objects.filter(card=card).values_list("trid", flat=True)) == {DEMOPAY, SHOPRIGHT}
    assert CardTokenCheck.objects.get(card=card).checked_at is not None


def test_the_cardholder_pauses_and_resumes_their_card_and_the_network_agrees(
    sandbox: SandboxServer, in_demopay: CardToken
) -> None:
    cardholder = _holder(in_demopay)

    token = token_suspend(in_demopay, actor=cardholder)

    assert token.status == CardToken.Status.SUSPENDED
    assert token.suspended_by == {CardToken.Party.CARDHOLDER}
    assert _network_token(sandbox, token)["CurrentStatusCode"] == "S"
    assert cardholder_may_resume(token)

    token = token_resume(token, actor=cardholder)

    assert (token.status, token.portal_suspenders) == (CardToken.Status.ACTIVE, [])
    assert _network_token(sandbox, token)["CurrentStatusCode"] == "A"
    actions = list(
        AuditEvent.objects.filter(object_type="provisioning.cardtoken").order_by("id").values_list("action", "outcome")
    )
    assert actions == [("token.suspended", "success"), ("token.resumed", "success")]


def test_a_cardholder_by_link_may_suspend_and_nothing_else(sandbox: SandboxServer, in_demopay: CardToken) -> None:
    assert in_demopay.card.cardholder is not None
    by_link = TokenActor.cardholder_by_link(in_demopay.card.cardholder.user)

    token = token_suspend(in_demopay, actor=by_link)

    assert token.suspended_by == {CardToken.Party.CARDHOLDER}  # theirs to resume once signed in
    [suspension] = [c for c in _network_token(sandbox, token)["History"] if c["StatusCode"] == "S"]
    assert suspension["ReasonCode"] == "T"  # suspected fraud
    for change in (token_resume, lambda t, actor: token_remove(t, actor=actor, everywhere=True)):
        with pytest.raises(TokenChangeRefused) as refused:
            change(token, actor=by_link)
        assert refused.value.code == "sign_in_needed"
    assert _network_token(sandbox, token)["CurrentStatusCode"] == "S"
    details = AuditEvent.objects.filter(object_type="provisioning.cardtoken").order_by("id").values_list("detail")
    assert [d for (d,) in details] == [
        "cardholder by link: reason T",
        "cardholder by link: refused (sign_in_needed)",
        "cardholder by link: refused (sign_in_needed)",
    ]


def test_the_cardholder_activates_a_token_awaiting_their_proof_and_the_network_agrees(
    sandbox: SandboxServer, card: Card
) -> None:
    sandbox.create_token(accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, status="U")
    card_tokens_refresh(card)
    waiting = CardToken.objects.get(card=card)

    token = token_activate(waiting, actor=_holder(waiting))

    assert token.status == CardToken.Status.ACTIVE
    assert _network_token(sandbox, token)["CurrentStatusCode"] == "A"
    assert AuditEvent.objects.filter(action="token.activated", outcome=AuditEvent.Outcome.SUCCESS).exists()


def test_only_a_token_still_being_set_up_can_be_activated(in_demopay: CardToken) -> None:
    with pytest.raises(TokenChangeRefused) as refused:
        token_activate(in_demopay, actor=_holder(in_demopay))
    assert refused.value.code == "token_state"
    assert AuditEvent.objects.filter(action="token.activated", outcome=AuditEvent.Outcome.FAILURE).exists()


def test_a_cardholder_cannot_lift_the_banks_suspension(
    sandbox: SandboxServer, in_demopay: CardToken, operations: TokenActor
) -> None:
    token = token_suspend(in_demopay, actor=operations, reason_code="S", comment="Phone reported stolen")
    assert token.suspended_by == {CardToken.Party.ISSUER}
    assert not cardholder_may_resume(token)

    with pytest.raises(TokenChangeRefused) as refused:
        token_resume(token, actor=_holder(token))

    assert refused.value.code == "suspended_by_other"
    assert _network_token(sandbox, token)["CurrentStatusCode"] == "S"
    refusal = AuditEvent.objects.get(action="token.resumed")
    assert refusal.outcome == "failure"
    assert "suspended_by_other" in refusal.detail


def test_when_the_bank_pauses_a_card_the_cardholder_paused_only_the_bank_can_lift_its_pause(
    sandbox: SandboxServer, in_demopay: CardToken, operations: TokenActor
) -> None:
    cardholder = _holder(in_demopay)
    token = token_suspend(in_demopay, actor=cardholder)
    token = token_suspend(token, actor=operations, reason_code="T", comment="Fraud suspected")
    assert token.suspended_by == {CardToken.Party.CARDHOLDER, CardToken.Party.ISSUER}
    assert not cardholder_may_resume(token)

    token = token_resume(token, actor=operations, reason_code="T", comment="No fraud after all")

    # The network keeps the cardholder's own pause (the sandbox tells the two apart): theirs to lift.
    assert token.status == CardToken.Status.SUSPENDED
    assert token.suspended_by == {CardToken.Party.CARDHOLDER}
    assert token_resume(token, actor=cardholder).status == CardToken.Status.ACTIVE


def test_a_pause_by_the_wallet_is_the_wallets_to_lift(sandbox: SandboxServer, in_demopay: CardToken) -> None:
    sandbox.control("POST", f"tokens/{in_demopay.token_unique_reference}/wallet", {"action": "suspend"})
    card_tokens_refresh(in_demopay.card)
    in_demopay.refresh_from_db()
    assert in_demopay.suspended_by == {CardToken.Party.TOKEN_REQUESTOR}
    with pytest.raises(TokenChangeRefused):
        token_resume(in_demopay, actor=TokenActor.staff(_role("Operations")), reason_code="Z", comment="Try")


def test_staff_lift_their_own_suspension_with_a_reason(sandbox: SandboxServer, in_demopay: CardToken) -> None:
    operations = TokenActor.staff(_role("Operations"))
    token = token_suspend(in_demopay, actor=operations, reason_code="L", comment="Lost, said on the phone")
    token = token_resume(token, actor=operations, reason_code="F", comment="Found again")
    assert token.status == CardToken.Status.ACTIVE
    history = [change["ReasonCode"] for change in _network_token(sandbox, token)["History"] if "ReasonCode" in change]
    assert history[-2:] == ["L", "F"]


def test_staff_must_give_a_valid_reason_and_a_comment(in_demopay: CardToken, operations: TokenActor) -> None:
    with pytest.raises(TokenChangeRefused) as no_comment:
        token_suspend(in_demopay, actor=operations, reason_code="S", comment="  ")
    with pytest.raises(TokenChangeRefused) as bad_reason:
        token_suspend(in_demopay, actor=operations, reason_code="F", comment="F is not a suspend reason")
    assert (no_comment.value.code, bad_reason.value.code) == ("comment", "reason")


def test_auditors_may_not_change_tokens(in_demopay: CardToken) -> None:
    with pytest.raises(TokenChangeRefused) as refused:
        token_suspend(in_demopay, actor=TokenActor.staff(_role("Auditor")), reason_code="S", comment="Try")
    assert refused.value.code == "forbidden"


def test_a_cardholder_cannot_change_another_cardholders_token(in_demopay: CardToken) -> None:
    stranger = factories.CardholderFactory.create().user
    with pytest.raises(TokenChangeRefused) as refused:
        token_suspend(in_demopay, actor=TokenActor.cardholder(stranger))
    assert refused.value.code == "not_your_card"


def test_removing_from_the_phone_only_keeps_the_token_in_the_network(
    sandbox: SandboxServer, in_demopay: CardToken
) -> None:
    token = token_remove(in_demopay, actor=_holder(in_demopay), everywhere=False)
    assert token.deleted_from_consumer_app
    assert not token.is_live
    assert _network_token(sandbox, token)["CurrentStatusCode"] != "D"


def test_removing_everywhere_deletes_the_token(sandbox: SandboxServer, in_demopay: CardToken) -> None:
    token = token_remove(in_demopay, actor=_holder(in_demopay), everywhere=True)
    assert token.status == CardToken.Status.DELETED
    assert _network_token(sandbox, token)["CurrentStatusCode"] == "D"
    with pytest.raises(TokenChangeRefused):
        token_suspend(token, actor=_holder(token))


def test_a_change_whose_answer_is_lost_is_checked_again_and_audited(
    sandbox: SandboxServer, in_demopay: CardToken
) -> None:
    sandbox.fail_next(500)  # MDES may have applied it
    with pytest.raises(TokenChangeUnknown):
        token_suspend(in_demopay, actor=_holder(in_demopay))
    assert in_demopay.card in cards_due_for_token_refresh()
    event = AuditEvent.objects.get(action="token.suspended")
    assert event.outcome == "failure"
    assert "outcome unknown" in event.detail


def test_a_change_the_network_refuses_changes_nothing_and_says_so(
    sandbox: SandboxServer, in_demopay: CardToken
) -> None:
    sandbox.fail_next(400, shape="mdes")
    with pytest.raises(TokenChangeRefused) as refused:
        token_suspend(in_demopay, actor=_holder(in_demopay))
    assert refused.value.code == "network_refused"
    in_demopay.refresh_from_db()
    assert in_demopay.status == "A"


def test_a_change_that_never_reached_the_network_changes_nothing(sandbox: SandboxServer, in_demopay: CardToken) -> None:
    sandbox.fail_next(429)
    with pytest.raises(TokenChangeRefused) as refused:
        token_suspend(in_demopay, actor=_holder(in_demopay))
    assert refused.value.code == "network_unavailable"
    assert _network_token(sandbox, in_demopay)["CurrentStatusCode"] == "A"


def test_the_background_refreshes_cards_whose_records_grew_old(
    sandbox: SandboxServer, in_demopay: CardToken, settings: Any
) -> None:
    settings.PROVISIONING_TOKEN_REFRESH_INTERVAL_SECONDS = 3600
    assert cards_due_for_token_refresh() == []
    CardTokenCheck.objects.update(attempted_at=timezone.now() - timedelta(hours=2))
    sandbox.control("POST", f"tokens/{in_demopay.token_unique_reference}/wallet", {"action": "suspend"})

    assert tasks.refresh_card_tokens_due() == "1 cards refreshed, 0 failed"

    in_demopay.refresh_from_db()
    assert in_demopay.suspended_by == {CardToken.Party.TOKEN_REQUESTOR}
    assert cards_due_for_token_refresh() == []
