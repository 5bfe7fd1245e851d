"""requestActivationMethods, deliverActivationCode and validateActivationCode over HTTP from the sandbox's MDES."""

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation

from audit.models import AuditEvent
from cardholders.models import Card
from core import messaging
from core.messaging import Message
from issuer_services.models import ActivationCode, TokenizationRequest
from sandbox.issuer_services import CardData, IssuerServicesClient, new_correlation_id
from tests import factories
from tests.fixtures.issuer_services import DEMOPAY
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_services.conftest import Asked, inbox_messages, new_reference

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+15555555678"
EMAIL = "alice@demo.example"
TEXT = "TEXT_TO_CARDHOLDER_NUMBER"
E_MAIL = "EMAIL_TO_CARDHOLDER_ADDRESS"


def _methods(
    mdes: IssuerServicesClient, card: CardData, reference: str | None = None, correlation_id: str = "C1"
) -> list[dict[str, str]]:
    answer = mdes.request_activation_methods(
        card,
        token_unique_reference=reference or new_reference(),
        correlation_id=correlation_id,
        token_requestor_id=DEMOPAY,
        consumer_facing_name="DemoPay",
    )
    assert answer.status == 200, answer.body
    methods: list[dict[str, str]] = answer.body["activationMethods"]
    return methods


# --- the methods ---------------------------------------------------------------------------------------------------
def test_methods_are_the_cardholders_channels_on_file_masked(
    mdes: IssuerServicesClient, inbox: SandboxServer, alice_card: Card, alice_data: CardData, live_server: Any
) -> None:
    assert _methods(mdes, alice_data) == [
        {"type": TEXT, "value": "••• 5678"},
        {"type": E_MAIL, "value": "a•••@demo.example"},
        {"type": "CARDHOLDER_TO_VISIT_WEBSITE", "value": f"{live_server.url}/wallet-requests/"},
    ]


def test_the_issuers_app_is_offered_where_it_has_one(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData, issuer_services_on: Any
) -> None:
    issuer_services_on.ISSUER_SERVICES_MOBILE_APP = "Demo Bank app"

    assert {"type": "CARDHOLDER_TO_USE_MOBILE_APP", "value": "Demo Bank app"} in _methods(mdes, alice_data)


def test_only_channels_on_file_are_offered(
    mdes: IssuerServicesClient, inbox: SandboxServer, alice_card: Card, alice_data: CardData
) -> None:
    assert alice_card.cardholder is not None
    alice_card.cardholder.phone_number = ""
    alice_card.cardholder.save()

    assert TEXT not in {method["type"] for method in _methods(mdes, alice_data)}


def test_a_card_without_a_cardholder_has_no_methods(mdes: IssuerServicesClient, alice_card: Card) -> None:
    factories.GiftCardFactory.create()

    assert _methods(mdes, CardData(factories.TEST_CARD_NUMBERS[2], "12", "30")) == []


@pytest.mark.parametrize("problem", ["unknown", "closed", "wrong-expiry"])
def test_card_data_that_does_not_check_out_gets_no_methods(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData, problem: str
) -> None:
    card = alice_data
    if problem == "unknown":
        card = replace(alice_data, account_number="5454545454545454")
    elif problem == "closed":
        alice_card.transition_to(Card.State.CLOSED)
        alice_card.save()
    else:
        card = replace(alice_data, expiry_month="11")

    assert _methods(mdes, card) == []


def test_methods_for_a_token_mdes_decided_alone_record_it_as_pending(
    mdes: IssuerServicesClient, alice_card: Card, alice_data: CardData
) -> None:
    reference = new_reference()

    assert _methods(mdes, alice_data, reference)

    request = TokenizationRequest.objects.get(token_unique_reference=reference)
    assert (request.state, request.reasons) == (TokenizationRequest.State.PENDING, ["decided_by_network"])


def test_a_declined_request_gets_no_methods(mdes: IssuerServicesClient, ask: Any, alice_card: Card) -> None:
    declined = ask(decisioning={"recommendedDecision": "DECLINED"})

    assert _methods(mdes, CardData("5555555555554444", "12", "30"), declined.reference, declined.correlation_id) == []


# --- delivering codes -----------------------------------------------------------------------------------------------
def _deliver(mdes: IssuerServicesClient, asked: Asked, method_type: str, **fields: Any) -> Any:
    method = next(m for m in asked.body["activationMethods"] if m["type"] == method_type)
    return mdes.deliver_activation_code(
        token_unique_reference=asked.reference, correlation_id=asked.correlation_id, method=method, **fields
    )


def _code_in(text: str) -> str:
    found = re.search(r"\b(\d{6,8})\b", text)
    assert found, text
    return found.group(1)


def test_a_code_the_portal_makes_goes_by_text_naming_the_wallet_and_card(
    mdes: IssuerServicesClient, ask: Any, inbox: SandboxServer, alice_card: Card
) -> None:
    asked = ask()

    answer = _deliver(mdes, asked, TEXT)

    assert answer.status == 200
    assert answer.body == {"responseId": answer.body["responseId"]}
    [message] = inbox_messages(inbox, PHONE)
    assert message["channel"] == "sms"
    assert "DemoPay" in message["body"]
    assert "ending 4444" in message["body"]
    code = _code_in(message["body"])
    assert len(code) == 6
    record = ActivationCode.objects.get()
    assert (record.origin, record.channel, record.sends) == ("portal", "sms", 1)
    assert code not in str(list(ActivationCode.objects.values()))  # its digest only
    request = TokenizationRequest.objects.get()
    assert request.activation_method == TEXT
    assert AuditEvent.objects.filter(action="issuer_service.activation_code_sent").exists()


def test_a_code_goes_by_e_mail(mdes: IssuerServicesClient, ask: Any, alice_card: Card) -> None:
    asked = ask()

    assert _deliver(mdes, asked, E_MAIL).status == 200

    [sent] = mail.outbox
    assert sent.to == [EMAIL]
    assert "DemoPay" in sent.subject
    assert _code_in(str(sent.body))


def test_a_resend_sends_the_same_code_even_by_another_channel(
    mdes: IssuerServicesClient, ask: Any, inbox: SandboxServer, alice_card: Card
) -> None:
    asked = ask()
    _deliver(mdes, asked, TEXT)
    _deliver(mdes, asked, E_MAIL)

    [by_text] = inbox_messages(inbox, PHONE)
    [by_mail] = inbox_messages(inbox, EMAIL)
    assert _code_in(by_text["body"]) == _code_in(by_mail["body"])
    record = ActivationCode.objects.get()
    assert (record.sends, record.channel) == (2, "email")


class _LanguageSpy:
    """A message backend noting the language active while each message is sent."""

    channels = frozenset({"email", "sms"})
    languages: list[str | None] = []

    def send(self, message: Message) -> None:
        self.languages.append(translation.get_language())


def test_the_code_is_written_in_the_cardholders_language(
    mdes: IssuerServicesClient, ask: Any, alice_card: Card, settings: Any
) -> None:
    settings.PORTAL_MESSAGE_BACKEND = f"{__name__}._LanguageSpy"
    messaging._backend.cache_clear()
    assert alice_card.cardholder is not None
    alice_card.cardholder.preferred_locale = "de_DE"
    alice_card.cardholder.save()
    try:
        assert _deliver(mdes, ask(), E_MAIL).status == 200
    finally:
        messaging._backend.cache_clear()

    assert _LanguageSpy.languages[-1] == "de"


def test_a_code_mdes_makes_is_delivered_as_given_and_a_resend_is_the_same_record(
    mdes: IssuerServicesClient, ask: Any, inbox: SandboxServer, alice_card: Card
) -> None:
    asked = ask()
    expires = timezone.now() + timedelta(minutes=15)

    _deliver(mdes, asked, TEXT, activation_code="48151623", expires_at=expires)
    _deliver(mdes, asked, TEXT, activation_code="48151623", expires_at=expires)

    assert [_code_in(m["body"]) for m in inbox_messages(inbox, PHONE)] == ["48151623", "48151623"]
    record = ActivationCode.objects.get()
    assert (record.origin, record.sends) == ("mdes", 2)
    assert "48151623" not in str(list(ActivationCode.objects.values()))


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"token_unique_reference": "DSBXMC" + "0" * 42}, 404, "UNKNOWN_TOKEN"),
        ({"correlation_id": "ANOTHER"}, 400, "INVALID_FIELD_VALUE"),
        (
            {"method": {"type": "CARDHOLDER_TO_VISIT_WEBSITE", "value": "https://x.example/"}},
            400,
            "INVALID_FIELD_VALUE",
        ),
        ({"method": {"type": TEXT, "value": "••• 5678"}}, 400, "INVALID_FIELD_VALUE"),  # no text messages here
    ],
    ids=["unknown-token", "another-correlation", "a-method-without-a-code", "a-channel-not-reachable"],
)
def test_codes_that_cannot_be_delivered_are_refused(
    mdes: IssuerServicesClient, ask: Any, alice_card: Card, change: dict[str, Any], status: int, code: str
) -> None:
    asked = ask()
    fields = {
        "token_unique_reference": asked.reference,
        "correlation_id": asked.correlation_id,
        "method": {"type": E_MAIL, "value": "a•••@demo.example"},
    } | change

    answer = mdes.deliver_activation_code(**fields)

    assert (answer.status, answer.body["errorCode"]) == (status, code)
    assert not mail.outbox


def test_when_the_message_cannot_go_out_mdes_is_told(
    mdes: IssuerServicesClient, ask: Any, inbox: SandboxServer, alice_card: Card, settings: Any
) -> None:
    asked = ask()
    settings.PORTAL_SANDBOX_INBOX_URL = "http://127.0.0.1:9/inbox/messages"
    messaging._backend.cache_clear()

    answer = _deliver(mdes, asked, TEXT)

    assert (answer.status, answer.body["errorCode"]) == (503, "NOT_DELIVERED")
    assert AuditEvent.objects.filter(action="issuer_service.activation_code_not_sent").exists()


# --- validating codes ------------------------------------------------------------------------------------------------
@pytest.fixture
def delivered(mdes: IssuerServicesClient, ask: Any, inbox: SandboxServer, alice_card: Card) -> tuple[Asked, str]:
    """A request pending the cardholder, with a portal-made code sent by text: (the request, the code)."""
    asked = ask()
    _deliver(mdes, asked, TEXT)
    return asked, _code_in(inbox_messages(inbox, PHONE)[0]["body"])


def _validate(mdes: IssuerServicesClient, asked: Asked, code: str) -> str:
    answer = mdes.validate_activation_code(
        token_unique_reference=asked.reference, correlation_id=asked.correlation_id, code=code
    )
    assert answer.status == 200, answer.body
    return str(answer.body["result"])


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_right_code_succeeds_once(mdes: IssuerServicesClient, delivered: tuple[Asked, str]) -> None:
    asked, code = delivered

    assert _validate(mdes, asked, code) == "SUCCESS"
    assert _validate(mdes, asked, code) == "EXPIRED_CODE"  # used up
    assert AuditEvent.objects.filter(action="issuer_service.activation_code_checked").count() == 2


def test_three_wrong_codes_exhaust_the_code(mdes: IssuerServicesClient, delivered: tuple[Asked, str]) -> None:
    asked, code = delivered

    results = [_validate(mdes, asked, _wrong(code)) for _ in range(3)] + [_validate(mdes, asked, code)]

    assert results == [
        "INCORRECT_CODE",
        "INCORRECT_CODE",
        "INCORRECT_CODE_RETRIES_EXCEEDED",
        "INCORRECT_CODE_RETRIES_EXCEEDED",
    ]


def test_a_wrong_code_then_the_right_one_succeeds(mdes: IssuerServicesClient, delivered: tuple[Asked, str]) -> None:
    asked, code = delivered

    assert [_validate(mdes, asked, _wrong(code)), _validate(mdes, asked, code)] == ["INCORRECT_CODE", "SUCCESS"]


def test_an_expired_code_is_refused(mdes: IssuerServicesClient, delivered: tuple[Asked, str]) -> None:
    asked, code = delivered
    ActivationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _validate(mdes, asked, code) == "EXPIRED_CODE"


def test_after_expiry_a_resend_makes_a_new_code(
    mdes: IssuerServicesClient, delivered: tuple[Asked, str], inbox: SandboxServer
) -> None:
    asked, _first = delivered
    ActivationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    _deliver(mdes, asked, TEXT)

    second = _code_in(inbox_messages(inbox, PHONE)[0]["body"])
    assert ActivationCode.objects.count() == 2
    assert _validate(mdes, asked, second) == "SUCCESS"


def test_a_code_for_a_token_never_asked_about_is_refused(mdes: IssuerServicesClient, alice_card: Card) -> None:
    answer = mdes.validate_activation_code(
        token_unique_reference=new_reference(), correlation_id=new_correlation_id(), code="123456"
    )

    assert (answer.status, answer.body["errorCode"]) == (404, "UNKNOWN_TOKEN")
