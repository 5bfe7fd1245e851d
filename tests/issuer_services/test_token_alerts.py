""" "Was this you?" over HTTP: the sandbox's MDES tells the portal a token of Alice's card is active (its issuer
services client, or its simulated wallet), the portal texts her through the sandbox inbox, and the link in the text
suspends that token in the sandbox's Customer Service API, once."""

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from core import messaging
from issuer_services import tasks, token_alerts
from issuer_services.models import DecisionRules, TokenAlert
from provisioning.models import CardToken, NetworkConfiguration, PushReceipt
from sandbox.issuer_services import PUSH_SOURCE, CardData, Device, IssuerServicesClient
from tests.fixtures.issuer_services import DEMOPAY, PREFIX
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_services.conftest import Asked, inbox_messages, new_reference
from tests.provisioning.factories import PushFactory, TokenRequestorFactory

pytestmark = pytest.mark.django_db(transaction=True)

ALICE_PHONE = "+15555555678"
LINK = re.compile(r"https?://\S+/was-this-you/([A-Za-z0-9_-]{20,64})/")


@pytest.fixture(autouse=True)
def tasks_in_process() -> Iterator[None]:
    """The task after the notification runs in the portal's process, as on the embedded default (no worker here)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = not app.conf.broker_url


@pytest.fixture
def network(alice_card: Card, sandbox_configuration: NetworkConfiguration) -> NetworkConfiguration:
    """Alice's bank's network configuration, pointed at the sandbox (its Customer Service API suspends)."""
    config = NetworkConfiguration.objects.get(is_active=True)
    for name in ("base_url", "consumer_key", "signing_key_path", "signing_key_password_env"):
        setattr(config, name, getattr(sandbox_configuration, name))
    config.encryption_certificate_path = sandbox_configuration.encryption_certificate_path
    config.save()
    return config


def _activated(mdes: IssuerServicesClient, card: CardData, reference: str, correlation_id: str) -> None:
    answer = mdes.notify_service_activated(
        card,
        token_unique_reference=reference,
        correlation_id=correlation_id,
        token_requestor_id=DEMOPAY,
        wallet_id="216",
        device=Device("Pixel 9 (sandbox)"),
    )
    assert answer.status == 200, answer.body


@pytest.fixture
def typed_in(
    ask: Callable[..., Asked],
    mdes: IssuerServicesClient,
    alice_card: Card,
    alice_data: CardData,
    inbox: SandboxServer,
) -> Callable[[], Asked]:
    """Alice's card typed into DemoPay, and MDES's word that its token is active (a token made in the sandbox too,
    so that its Customer Service API can suspend it)."""

    def make() -> Asked:
        asked = ask()
        inbox.create_token(
            accountNumber=alice_data.account_number,
            tokenRequestorId=DEMOPAY,
            tokenUniqueReference=asked.reference,
            deviceName="Pixel 9 (sandbox)",
        )
        _activated(mdes, alice_data, asked.reference, asked.correlation_id)
        return asked

    return make


def _texts(inbox: SandboxServer) -> list[dict[str, Any]]:
    return inbox_messages(inbox, ALICE_PHONE)


def _link_in(message: dict[str, Any]) -> tuple[str, str]:
    found = LINK.search(message["body"])
    assert found, message["body"]
    return found.group(0), found.group(1)


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@dataclass
class Browser:
    """Opens the link's page and clicks its buttons, with the page's CSRF cookie and token (`__Host-` cookies are
    Secure: a browser sends them to http://127.0.0.1, requests does not, so the cookie is sent by hand)."""

    url: str
    cookie: str = ""
    csrf_token: str = ""

    def open(self) -> requests.Response:
        page = requests.get(self.url, timeout=10)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if found:
            self.csrf_token = found.group(1)
            self.cookie = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
        return page

    def click(self, action: str) -> requests.Response:
        if not self.csrf_token:
            assert self.open().status_code == 200
        data = {"csrfmiddlewaretoken": self.csrf_token, "action": action}
        return requests.post(self.url, data=data, headers={"Cookie": self.cookie}, timeout=20)


def _sandbox_status(sandbox: SandboxServer, reference: str) -> str:
    [token] = [t for t in sandbox.tokens() if t["TokenUniqueReference"] == reference]
    return str(token["CurrentStatusCode"])


# --- the message -------------------------------------------------------------------------------------------------
def test_a_card_typed_in_and_activated_gets_one_message_naming_wallet_device_and_card(
    typed_in: Callable[[], Asked], inbox: SandboxServer, live_server: Any
) -> None:
    asked = typed_in()

    [text] = _texts(inbox)
    assert text["channel"] == "sms"
    assert "DemoPay on Pixel 9 (sandbox)" in text["body"]
    assert "•••• 4444" in text["body"]
    url, link_token = _link_in(text)
    assert url.startswith(f"{live_server.url}/was-this-you/")
    alert = TokenAlert.objects.get(token__token_unique_reference=asked.reference)
    assert (alert.state, alert.reason, alert.channel) == ("sent", "typed_in", "sms")
    assert alert.link_digest == hashlib.sha256(link_token.encode()).hexdigest()  # the link itself is kept nowhere
    assert alert.expires_at is not None
    assert timedelta(days=6, hours=23) < alert.expires_at - timezone.now() <= timedelta(days=7)
    [raised], [sent] = _events("token_alert.raised"), _events("token_alert.sent")
    assert (raised.object_id, sent.object_id) == (str(alert.pk), str(alert.pk))
    assert (sent.after or {})["sent_to"] == "your phone ending 5678"


def test_the_message_is_in_the_cardholders_language(
    typed_in: Callable[[], Asked], inbox: SandboxServer, alice_card: Card
) -> None:
    cardholder = alice_card.cardholder
    assert cardholder is not None
    cardholder.preferred_locale = "de_DE"
    cardholder.save()

    typed_in()

    [text] = _texts(inbox)
    assert "DemoPay auf Pixel 9 (sandbox)" in text["body"]  # the rest is German once locale/ has these strings
    url, _token = _link_in(text)
    assert "DemoPay auf Pixel 9 (sandbox)" in requests.get(url, timeout=10).text  # and so is the link's page


def test_duplicate_and_later_notifications_send_nothing_more(
    typed_in: Callable[[], Asked], mdes: IssuerServicesClient, alice_data: CardData, inbox: SandboxServer
) -> None:
    asked = typed_in()

    _activated(mdes, alice_data, asked.reference, asked.correlation_id)
    mdes.notify_token_updated(token_unique_reference=asked.reference, status="SUSPENDED", suspended_by=["ISSUER"])
    mdes.notify_token_updated(token_unique_reference=asked.reference, status="ACTIVE")

    assert len(_texts(inbox)) == 1
    assert TokenAlert.objects.count() == 1
    assert len(_events("token_alert.raised")) == 1


def test_a_token_made_active_by_notify_token_updated_gets_the_message(
    ask: Callable[..., Asked], mdes: IssuerServicesClient, alice_card: Card, inbox: SandboxServer
) -> None:
    asked = ask()

    answer = mdes.notify_token_updated(token_unique_reference=asked.reference, status="ACTIVE")

    assert answer.status == 200
    [text] = _texts(inbox)
    _link_in(text)


def test_the_portals_own_push_gets_no_message(
    ask: Callable[..., Asked], mdes: IssuerServicesClient, alice_data: CardData, alice_card: Card, inbox: SandboxServer
) -> None:
    PushFactory.create(card=alice_card, token_requestor=TokenRequestorFactory.create(trid=DEMOPAY))
    asked = ask(source=PUSH_SOURCE)

    _activated(mdes, alice_data, asked.reference, asked.correlation_id)

    assert CardToken.objects.get().status == "A"
    assert _texts(inbox) == []
    assert not TokenAlert.objects.exists()


def test_a_push_the_callback_named_gets_no_message_even_unasked(
    mdes: IssuerServicesClient, alice_data: CardData, alice_card: Card, inbox: SandboxServer
) -> None:
    push = PushFactory.create(card=alice_card, token_requestor=TokenRequestorFactory.create(trid=DEMOPAY))
    reference = new_reference()
    PushReceipt.objects.filter(push=push).update(
        token_unique_reference=reference, created_at=timezone.now() - timedelta(days=1)
    )

    _activated(mdes, alice_data, reference, "C1")

    assert _texts(inbox) == []
    assert not TokenAlert.objects.exists()


def test_a_card_typed_in_right_after_a_push_to_the_same_wallet_still_gets_the_message(
    typed_in: Callable[[], Asked], alice_card: Card, inbox: SandboxServer
) -> None:
    PushFactory.create(card=alice_card, token_requestor=TokenRequestorFactory.create(trid=DEMOPAY))

    typed_in()

    assert len(_texts(inbox)) == 1


def test_a_message_the_backend_could_not_send_is_sent_later_by_the_sweep(
    typed_in: Callable[[], Asked], inbox: SandboxServer, settings: Any
) -> None:
    settings.PORTAL_SANDBOX_INBOX_URL = "http://127.0.0.1:9/inbox/messages"  # nothing listens there
    messaging._backend.cache_clear()

    typed_in()

    alert = TokenAlert.objects.get()
    assert (alert.state, alert.attempts, alert.link_digest) == ("due", 1, None)
    [not_sent] = _events("token_alert.not_sent")
    assert not_sent.outcome == AuditEvent.Outcome.FAILURE
    settings.PORTAL_SANDBOX_INBOX_URL = f"{inbox.origin}/inbox/messages"
    messaging._backend.cache_clear()
    assert tasks.send_token_alerts_due() == "0 alerts tried"  # its next attempt is not due yet
    TokenAlert.objects.update(next_attempt_at=timezone.now())

    assert tasks.send_token_alerts_due() == "1 alerts tried"

    [text] = _texts(inbox)
    _link_in(text)
    assert TokenAlert.objects.get().state == "sent"


def test_after_the_last_failed_attempt_staff_are_told_the_cardholder_was_not(
    typed_in: Callable[[], Asked], inbox: SandboxServer, settings: Any
) -> None:
    settings.PORTAL_SANDBOX_INBOX_URL = "http://127.0.0.1:9/inbox/messages"
    messaging._backend.cache_clear()
    typed_in()
    TokenAlert.objects.update(attempts=token_alerts.MAX_ATTEMPTS - 1, next_attempt_at=timezone.now())

    tasks.send_token_alerts_due()

    alert = TokenAlert.objects.get()
    assert (alert.state, alert.attempts) == ("not_sent", token_alerts.MAX_ATTEMPTS)
    [given_up] = _events("token_alert.given_up")
    assert given_up.outcome == AuditEvent.Outcome.FAILURE
    assert "was not told" in given_up.detail
    assert tasks.send_token_alerts_due() == "0 alerts tried"


# --- the link ----------------------------------------------------------------------------------------------------
@pytest.fixture
def link(typed_in: Callable[[], Asked], inbox: SandboxServer, network: NetworkConfiguration) -> tuple[str, Asked]:
    asked = typed_in()
    [text] = _texts(inbox)
    url, _token = _link_in(text)
    return url, asked


def test_the_link_shows_what_was_added_and_opening_it_changes_nothing(
    link: tuple[str, Asked], sandbox: SandboxServer
) -> None:
    url, asked = link

    page = requests.get(url, timeout=10)

    assert page.status_code == 200
    assert "Was this you?" in page.text
    assert "DemoPay" in page.text
    assert "Pixel 9 (sandbox)" in page.text
    assert "•••• 4444" in page.text
    assert ">Suspend it</button>" in page.text
    assert _sandbox_status(sandbox, asked.reference) == "A"
    assert TokenAlert.objects.get().used_at is None


def test_one_click_suspends_the_token_in_the_network_and_spends_the_link(
    link: tuple[str, Asked], sandbox: SandboxServer
) -> None:
    url, asked = link
    browser = Browser(url)

    page = browser.click("suspend")

    assert page.status_code == 200, page.text
    assert "Suspended" in page.text
    assert "can no longer pay with your card •••• 4444" in page.text
    token = CardToken.objects.get()
    assert f'href="/accounts/login/?next=/places/{token.public_id}/resume/"' in page.text  # resuming needs sign-in
    assert _sandbox_status(sandbox, asked.reference) == "S"
    [suspension] = [c for c in sandbox.tokens()[0]["History"] if c["StatusCode"] == "S"]
    assert suspension["ReasonCode"] == "T"  # suspected fraud
    assert (token.status, token.portal_suspenders) == ("S", ["cardholder"])
    [event] = _events("token.suspended")
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.detail == "cardholder by link: reason T"
    assert TokenAlert.objects.get().state == "suspended"
    assert len(_events("token_alert.suspended")) == 1

    again = requests.get(url, timeout=10)
    assert again.status_code == 410
    assert "This link has been used" in again.text
    assert "/accounts/login/" in again.text
    assert browser.click("suspend").status_code == 410
    assert len(_events("token.suspended")) == 1
    assert [e.after["asked"] for e in _events("token_alert.link_refused")] == ["open", "suspend"]  # type: ignore[index]


def test_the_link_token_never_reaches_the_log_whole(
    link: tuple[str, Asked], sandbox: SandboxServer, portal_log: io.StringIO
) -> None:
    url, _asked = link
    link_token = url.rstrip("/").rsplit("/", 1)[-1]

    Browser(url).click("suspend")

    assert "token.suspended" in {event.action for event in AuditEvent.objects.all()}
    assert link_token not in portal_log.getvalue()
    assert not [event for event in AuditEvent.objects.all() if link_token in str(vars(event))]


def test_it_was_me_spends_the_link_and_leaves_the_token(link: tuple[str, Asked], sandbox: SandboxServer) -> None:
    url, asked = link

    page = Browser(url).click("it_was_me")

    assert page.status_code == 200
    assert "Nothing was changed" in page.text
    assert _sandbox_status(sandbox, asked.reference) == "A"
    assert TokenAlert.objects.get().state == "acknowledged"
    assert len(_events("token_alert.acknowledged")) == 1
    assert requests.get(url, timeout=10).status_code == 410


def test_an_expired_link_suspends_nothing(link: tuple[str, Asked], sandbox: SandboxServer) -> None:
    url, asked = link
    browser = Browser(url)
    browser.open()
    TokenAlert.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = requests.get(url, timeout=10)
    posted = browser.click("suspend")

    assert page.status_code == posted.status_code == 410
    assert "This link has expired" in page.text
    assert _sandbox_status(sandbox, asked.reference) == "A"
    assert not _events("token.suspended")
    assert [e.after["link"] for e in _events("token_alert.link_refused")] == ["expired", "expired"]  # type: ignore[index]


def test_an_unknown_link_says_so_and_points_to_sign_in(live_server: Any, alice_card: Card) -> None:
    page = requests.get(f"{live_server.url}/was-this-you/{'A' * 43}/", timeout=10)

    assert page.status_code == 404
    assert "This link cannot be used" in page.text
    assert 'href="/accounts/login/"' in page.text
    [event] = _events("token_alert.link_refused")
    assert (event.outcome, event.object_id) == (AuditEvent.Outcome.FAILURE, "")


def test_a_forged_post_without_the_csrf_token_suspends_nothing(link: tuple[str, Asked], sandbox: SandboxServer) -> None:
    url, asked = link

    forged = requests.post(url, data={"action": "suspend"}, timeout=10)

    assert forged.status_code == 403
    assert _sandbox_status(sandbox, asked.reference) == "A"
    assert TokenAlert.objects.get().used_at is None
    assert requests.get(url, timeout=10).status_code == 200


def test_a_link_opened_too_often_is_refused_for_a_while(live_server: Any, alice_card: Card) -> None:
    url = f"{live_server.url}/was-this-you/{'B' * 43}/"

    answers = [requests.get(url, timeout=10).status_code for _ in range(21)]

    assert answers == [404] * 20 + [429]
    assert len(_events("token_alert.rate_limited")) == 1


def test_the_wallet_page_flow_ends_in_a_message_when_the_card_was_approved(
    sandbox: SandboxServer, issuer_services_on: Any, live_server: Any, alice_card: Card, inbox: SandboxServer
) -> None:
    sandbox.control("POST", "issuer-services", {"baseUrl": f"{live_server.url}{PREFIX}"})
    DecisionRules.objects.update_or_create(pk=1, defaults={"manual_decision": "APPROVED", "new_device_step_up": False})
    form = {"number": "5555 5555 5555 4444", "month": "12", "year": "30", "security_code": "123", "device": "android"}
    form |= {"code_mode": "issuer", "recommendation": "", "device_score": "", "account_score": ""}

    page = requests.post(f"{sandbox.origin}/wallet/{DEMOPAY}/add-card", data=form, timeout=20)

    assert "Card added to DemoPay" in page.text
    [text] = _texts(inbox)
    assert "DemoPay on Pixel 9 (sandbox)" in text["body"]
