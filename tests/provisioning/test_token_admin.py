"""Staff on tokens in the admin, against the real sandbox: Operations suspend, resume and remove with a reason and a
comment (the record, the network and the audit trail all show it); Auditors read and cannot act; a card's tokens are
found through the card, a token by its unique reference; the status history comes live from the network, and when
the network cannot answer the page says so. A card number is never typed, searched or shown."""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.models import CardToken, TokenRequestor
from tests.factories import TEST_CARD_NUMBERS, StaffUserFactory
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import CardTokenFactory, PushFactory
from tests.wallet import wallet_decides
from users.models import User

pytestmark = pytest.mark.django_db

DEMOPAY = "50100000011"
COMMENT = "Cardholder called: phone lost on the train"


def _member_of(role: str, **fields: Any) -> User:
    user = StaffUserFactory.create(is_superuser=False, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def operations() -> Client:
    return staff_client(_member_of("Operations", first_name="Olga", last_name="Operator"))


@pytest.fixture
def auditor() -> Client:
    return staff_client(_member_of("Auditor"))


@pytest.fixture
def token(portal: Client, card: Card) -> CardToken:
    """The card's token in DemoPay: made by the sandbox's wallet approving a real push, recorded at the callback."""
    response = portal.post(
        "/push/",
        {
            "card": [card.public_id],
            "token_requestor": TokenRequestor.objects.get(trid=DEMOPAY).pk,
            "idempotency_key": "form-1",
        },
    )
    assert response.status_code == 302, response.content
    callback = urlsplit(wallet_decides(response["Location"], "APPROVED"))
    assert portal.get(callback.path, dict(parse_qsl(callback.query))).status_code == 302
    return CardToken.objects.get(card=card)


def _at_network(sandbox: SandboxServer, token: CardToken) -> dict[str, Any]:
    return next(t for t in sandbox.tokens() if t["TokenUniqueReference"] == token.token_unique_reference)


def _page(client: Client, token: CardToken) -> str:
    response = client.get(reverse("admin:provisioning_cardtoken_change", args=[token.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _act(client: Client, token: CardToken, action: str, **data: str) -> Any:
    return client.post(reverse(f"admin:provisioning_cardtoken_{action}", args=[token.pk]), data, follow=True)


def test_operations_suspend_with_reason_and_comment_and_the_record_the_network_and_the_trail_show_it(
    operations: Client, token: CardToken, sandbox: SandboxServer
) -> None:
    form = operations.get(reverse("admin:provisioning_cardtoken_suspend", args=[token.pk])).content.decode()
    assert "The device was lost" in form
    assert "Fraudulent transactions" in form

    response = _act(operations, token, "suspend", reason="L", comment=COMMENT)

    assert response.redirect_chain[-1][0] == reverse("admin:provisioning_cardtoken_change", args=[token.pk])
    page = response.content.decode()
    assert "Suspended at the card network: DemoPay" in page
    assert "It is now suspended by the bank." in page
    token.refresh_from_db()
    assert token.status == CardToken.Status.SUSPENDED
    assert token.suspended_by == {CardToken.Party.ISSUER}
    network = _at_network(sandbox, token)
    assert (network["CurrentStatusCode"], network["Suspenders"]) == ("S", {"Suspender": ["I"]})
    assert network["History"][-1]["ReasonCode"] == "L"
    assert network["History"][-1]["AuditInfo"]["UserName"] == "Olga Operator"  # the staff member, not a service
    event = AuditEvent.objects.get(action="token.suspended", object_id=str(token.pk))
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.actor_label.startswith("person")
    assert f"reason L: {COMMENT}" in event.detail
    trail = staff_client(_member_of("Auditor")).get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "token.suspended" in trail


def test_the_token_page_shows_the_networks_status_history_and_the_portals_audit_events(
    operations: Client, auditor: Client, token: CardToken
) -> None:
    _act(operations, token, "suspend", reason="S", comment=COMMENT)

    page = _page(auditor, token)

    history = page.split("Status history at the card network")[1].split("Changes asked through the portal")[0]
    assert "<td>Suspended</td>" in history
    assert "<td>the bank</td>" in history
    assert "<td>S</td>" in history  # the reason code, with its legend
    assert "S: The device was stolen" in history
    assert "Olga Operator" in history
    events = page.split("Changes asked through the portal")[1]
    assert "token.suspended" in events
    assert COMMENT in events


def test_operations_see_the_actions_but_not_the_audit_trail_of_the_token(operations: Client, token: CardToken) -> None:
    page = _page(operations, token)
    assert "Suspend…" in page
    assert "Remove…" in page
    assert "Resume…" not in page  # an active token
    assert "Your role does not read the audit trail." in page


def test_auditors_see_no_action_and_a_forged_post_is_refused(
    auditor: Client, token: CardToken, sandbox: SandboxServer
) -> None:
    page = _page(auditor, token)
    assert "Suspend…" not in page
    assert "Remove…" not in page
    for action in ("suspend", "resume", "remove"):
        url = reverse(f"admin:provisioning_cardtoken_{action}", args=[token.pk])
        assert auditor.get(url).status_code == 403
        assert auditor.post(url, {"reason": "Z", "scope": "everywhere", "comment": "forged"}).status_code == 403
    token.refresh_from_db()
    assert token.status == CardToken.Status.ACTIVE
    assert _at_network(sandbox, token)["CurrentStatusCode"] == "A"
    assert not AuditEvent.objects.filter(action__startswith="token.", object_id=str(token.pk)).exists()


def test_operations_resume_and_remove_from_the_device_only(
    operations: Client, token: CardToken, sandbox: SandboxServer
) -> None:
    _act(operations, token, "suspend", reason="T", comment="Fraud reported")
    assert "Resume…" in _page(operations, token)

    resumed = _act(operations, token, "resume", reason="T", comment="No fraud: the cardholder's own purchases")
    assert "Resumed at the card network" in resumed.content.decode()
    token.refresh_from_db()
    assert token.status == CardToken.Status.ACTIVE

    removed = _act(operations, token, "remove", reason="D", scope="device", comment="Cardholder sold the phone")
    assert "Removed at the card network" in removed.content.decode()
    token.refresh_from_db()
    assert token.deleted_from_consumer_app
    assert token.status == CardToken.Status.ACTIVE  # kept in the network, for subscriptions
    assert _at_network(sandbox, token)["TokenDeletedFromConsumerApp"] is True
    assert set(AuditEvent.objects.filter(object_id=str(token.pk)).values_list("action", flat=True)) >= {
        "token.suspended",
        "token.resumed",
        "token.removed",
    }


def test_a_change_needs_a_reason_and_a_comment(operations: Client, token: CardToken, sandbox: SandboxServer) -> None:
    response = operations.post(
        reverse("admin:provisioning_cardtoken_remove", args=[token.pk]), {"reason": "F", "comment": " "}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("This field is required.") == 2  # the comment, and whether from the device or everywhere
    assert "Select a valid choice." in page  # F: Mastercard's deprecated code is not offered
    assert _at_network(sandbox, token)["CurrentStatusCode"] == "A"


def test_a_change_the_network_refuses_shows_the_services_message_and_is_audited(
    operations: Client, token: CardToken, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(403, shape="gateway")
    response = _act(operations, token, "suspend", reason="Z", comment="Asked by the cardholder")
    page = response.content.decode()
    assert "The card network cannot be reached just now. Nothing was changed; please try again later." in page
    assert 'value="Suspend at the card network"' in page  # the form again, to try later
    token.refresh_from_db()
    assert token.status == CardToken.Status.ACTIVE
    event = AuditEvent.objects.get(action="token.suspended", object_id=str(token.pk))
    assert event.outcome == AuditEvent.Outcome.FAILURE


def test_a_staff_member_without_a_name_goes_to_the_network_by_id_never_by_e_mail_address(
    token: CardToken, sandbox: SandboxServer
) -> None:
    member = _member_of("Operations", first_name="", last_name="")
    _act(staff_client(member), token, "suspend", reason="L", comment=COMMENT)
    network = _at_network(sandbox, token)
    assert network["CurrentStatusCode"] == "S"
    audit = network["History"][-1]["AuditInfo"]
    assert (audit["UserId"], audit["UserName"]) == (f"staff-{member.pk}", f"Staff member {member.pk}")


def test_when_the_network_cannot_answer_the_token_page_says_so_and_leaves_a_record(
    auditor: Client, token: CardToken, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(503, count=3)
    page = _page(auditor, token)
    assert "The card network could not give this token's history just now." in page
    assert "The card network did not answer (it may be down or slow)." in page
    assert "DemoPay" in page  # the portal's record is still shown
    assert AuditEvent.objects.filter(action="token.status_history_failed", outcome="failure").exists()


def test_find_a_cards_tokens_through_the_card(
    auditor: Client, card: Card, sandbox_network_config: Any, sandbox: SandboxServer
) -> None:
    sandbox.create_token(
        accountNumber=TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY, deviceName="Kitchen tablet", deviceType="25"
    )
    card_page = auditor.get(reverse("admin:cardholders_card_change", args=[card.pk])).content.decode()
    tokens_of_card = f"{reverse('admin:provisioning_cardtoken_changelist')}?card={card.pk}"
    assert f'href="{tokens_of_card}">Tokens of this card' in card_page
    listed = auditor.get(tokens_of_card).content.decode()
    assert "has not been asked for this card's tokens yet" in listed
    assert "Ask the card network now" in listed

    response = auditor.post(reverse("admin:provisioning_cardtoken_find"), {"card": card.pk}, follow=True)

    assert response.redirect_chain[-1][0] == tokens_of_card
    page = response.content.decode()
    assert "The card network was asked just now for the tokens of Everyday Debit 555555…4444." in page
    assert "Kitchen tablet (computer)" in page
    assert "555555…4444" in page
    assert TEST_CARD_NUMBERS[0] not in page
    assert CardToken.objects.get(card=card).device_name == "Kitchen tablet"
    assert AuditEvent.objects.get(action="card.tokens_searched_by_staff").object_id == str(card.pk)


def test_the_find_page_chooses_the_card_from_the_card_list_by_its_id(auditor: Client, card: Card) -> None:
    page = auditor.get(reverse("admin:provisioning_cardtoken_find"), {"card": card.pk}).content.decode()
    lookup = f"{reverse('admin:cardholders_card_changelist')}?_to_field=id"
    assert f'href="{lookup}"' in page  # the magnifier opens the card list to choose from
    assert f'value="{card.pk}"' in page
    assert "Everyday Debit •••• 4444" in page
    popup = auditor.get(reverse("admin:cardholders_card_changelist"), {"_to_field": "id", "_popup": "1"})
    assert popup.status_code == 200
    assert TEST_CARD_NUMBERS[0] not in popup.content.decode()


def test_when_the_network_cannot_list_a_cards_tokens_the_list_says_so(
    auditor: Client, card: Card, sandbox_network_config: Any, sandbox: SandboxServer
) -> None:
    CardTokenFactory.create(card=card, device_name="Old phone")
    sandbox.fail_next(503, count=3)
    response = auditor.post(reverse("admin:provisioning_cardtoken_find"), {"card": card.pk}, follow=True)
    page = response.content.decode()
    assert "The card network did not answer (it may be down or slow)." in page
    assert "The list shows what the portal knew before." in page
    assert "Old phone (phone)" in page
    assert "got no answer" in page
    event = AuditEvent.objects.get(action="card.tokens_searched_by_staff")
    assert event.outcome == AuditEvent.Outcome.FAILURE


def test_search_the_list_by_token_unique_reference_exactly(auditor: Client, card: Card) -> None:
    wanted = CardTokenFactory.create(card=card, device_name="Wanted phone")
    CardTokenFactory.create(card=card, device_name="Other phone")
    changelist = reverse("admin:provisioning_cardtoken_changelist")

    page = auditor.get(changelist, {"q": wanted.token_unique_reference}).content.decode()
    assert "Wanted phone" in page
    assert "Other phone" not in page
    assert "Search the card network for it" not in page

    partial = auditor.get(changelist, {"q": wanted.token_unique_reference[:20]}).content.decode()
    assert "Wanted phone" not in partial  # exact only
    assert "Search the card network for it" in partial


def test_a_token_the_portal_does_not_know_is_shown_not_stored(
    auditor: Client, card: Card, sandbox_network_config: Any, sandbox: SandboxServer
) -> None:
    stranger = sandbox.create_token(accountNumber="5454545454545454", tokenRequestorId=DEMOPAY, deviceName="A phone")
    reference = stranger["TokenUniqueReference"]

    page = auditor.post(reverse("admin:provisioning_cardtoken_find"), {"reference": reference}).content.decode()

    assert "What the card network says" in page
    assert "shown here and not stored" in page
    assert "•••• 5454" in page
    assert "5454545454545454" not in page
    assert not CardToken.objects.exists()
    event = AuditEvent.objects.get(action="token.searched_by_staff")
    assert (event.after, event.actor_label) == ({"found": 1, "linked": False}, str(event.actor))


def test_a_token_a_push_of_the_card_reported_is_linked_once_the_cards_own_search_lists_it(
    auditor: Client, card: Card, sandbox_network_config: Any, sandbox: SandboxServer
) -> None:
    reference = sandbox.create_token(accountNumber=TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY)[
        "TokenUniqueReference"
    ]
    receipt = PushFactory.create(card=card).receipts.get()
    receipt.token_unique_reference = reference
    receipt.save()

    response = auditor.post(reverse("admin:provisioning_cardtoken_find"), {"reference": reference}, follow=True)

    record = CardToken.objects.get(token_unique_reference=reference)
    assert record.card == card
    assert response.redirect_chain[-1][0] == reverse("admin:provisioning_cardtoken_change", args=[record.pk])
    assert "The portal knows this token" in response.content.decode()


def test_an_unknown_reference_at_the_network_says_so(
    auditor: Client, sandbox_network_config: Any, sandbox: SandboxServer
) -> None:
    page = auditor.post(
        reverse("admin:provisioning_cardtoken_find"), {"reference": "DSBXMC" + "0" * 42}
    ).content.decode()
    assert "The card network knows no token with this reference." in page


def test_when_the_network_cannot_be_asked_for_a_reference_the_page_says_so(
    auditor: Client, sandbox_network_config: Any, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(503, count=3)
    page = auditor.post(
        reverse("admin:provisioning_cardtoken_find"), {"reference": "DSBXMC" + "0" * 42}
    ).content.decode()
    assert "The card network did not answer (it may be down or slow)." in page
    assert "What the card network says" not in page
    assert AuditEvent.objects.get(action="token.searched_by_staff").outcome == AuditEvent.Outcome.FAILURE


def test_a_typed_card_number_is_refused_and_never_shown_back(
    operations: Client, token: CardToken, sandbox: SandboxServer
) -> None:
    number = TEST_CARD_NUMBERS[0]
    searched = operations.get(reverse("admin:provisioning_cardtoken_changelist"), {"q": number}, follow=True)
    assert searched.redirect_chain[-1][0] == reverse("admin:provisioning_cardtoken_find")
    found = operations.post(reverse("admin:provisioning_cardtoken_find"), {"reference": number}, follow=True)
    commented = _act(operations, token, "suspend", reason="L", comment=f"Card {number} lost")
    for response in (searched, found, commented):
        page = response.content.decode()
        assert "That looks like a card number." in page
        assert number not in page
    assert _at_network(sandbox, token)["CurrentStatusCode"] == "A"  # nothing was sent


def test_the_token_list_shows_card_requestor_device_status_and_keeps_its_query_count(
    auditor: Client, card: Card
) -> None:
    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = auditor.get(reverse("admin:provisioning_cardtoken_changelist"))
        assert response.status_code == 200
        return len(captured), response.content.decode()

    CardTokenFactory.create(
        card=card, status=CardToken.Status.SUSPENDED, suspenders=["I", "W"], device_name="", device_type="23"
    )
    few, page = queries()
    assert "555555…4444" in page
    assert "Everyday Debit" in page
    assert '<td class="field-suspended_by_column">the bank and the wallet or merchant</td>' in page
    assert "Watch" in page
    for _ in range(8):
        CardTokenFactory.create(card=card)
    assert queries()[0] == few


def test_the_staff_home_has_the_tokens_under_where_cards_live(auditor: Client) -> None:
    home = auditor.get(reverse("admin:index")).content.decode()
    assert ">Where cards live</a>" in home
    assert "Card tokens" in home.split(">Where cards live</a>")[1]
