"""The landing page of a gift card: open the link, prove possession, push to the sandbox wallet, see the outcome.

MDES and the wallet are the real sandbox over HTTP; the portal runs under Django's test client.
"""

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from core.logging import JsonFormatter
from landing.models import LandingAccessToken, LandingLink
from landing.services import MintedLink, landing_link_mint, landing_link_revoke, token_digest
from provisioning.models import PushRequest, TokenRequestor
from provisioning.requestor_cache import token_requestors_changed
from tests import factories
from tests.csp import ALLOWED_SOURCES, HOSTILE_PUSH_METHODS, csp_added_form_action
from tests.fixtures.sandbox_server import SandboxServer
from tests.https_client import HttpsClient
from tests.landing.conftest import SAM_EMAIL, enter_code, last_code, page_path, send_code, token_path
from tests.wallet import wallet_decides

pytestmark = pytest.mark.django_db

DEMOPAY = "50100000011"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148"


def _push(client: Client, minted: MintedLink, trid: str = DEMOPAY, key: str = "form-1") -> Any:
    requestor = TokenRequestor.objects.get(trid=trid)
    return client.post(f"{page_path(minted)}push/", {"token_requestor": requestor.pk, "idempotency_key": key})


def _come_back(client: Client, callback: str) -> str:
    parts = urlsplit(callback)
    response = client.get(parts.path, parse_qs(parts.query))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


class TestOpeningTheLink:
    def test_the_token_is_exchanged_for_the_session_and_leaves_the_address_bar(self, minted: MintedLink) -> None:
        client = HttpsClient()
        response = client.get(token_path(minted))
        assert response.status_code == 302
        assert response["Location"] == page_path(minted)
        assert response["Referrer-Policy"] == "no-referrer"
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert page["Referrer-Policy"] == "same-origin"  # no token here; its forms need a real Origin header
        text = page.content.decode()
        assert "Sunny Gifts" in text
        assert "Happy birthday, Sam!" in text
        assert "•••• 8210" in text
        assert factories.TEST_CARD_NUMBERS[2] not in text
        assert factories.TEST_CARD_NUMBERS[2][:6] not in text  # not even the first six

    def test_the_link_can_be_opened_again_until_it_ends(self, minted: MintedLink) -> None:
        assert HttpsClient().get(token_path(minted)).status_code == 302
        assert HttpsClient().get(token_path(minted)).status_code == 302

    def test_unknown_expired_revoked_and_used_up_links_get_one_identical_answer(self, gift_card: Card) -> None:
        def answer(path: str) -> tuple[int, bytes, str]:
            response = HttpsClient().get(path)
            return response.status_code, response.content, response["Referrer-Policy"]

        expired = landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL, expires_in_days=1)
        revoked = landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL)
        landing_link_revoke(link=revoked.link, actor_label="test")
        used_up = landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL, max_pushes=1)
        LandingLink.objects.filter(pk=used_up.link.pk).update(pushes_started=1)

        unknown = answer("/card/open/" + "A" * 43 + "/")
        with time_machine.travel(timezone.now() + timedelta(days=2)):
            assert answer(token_path(expired)) == unknown
        assert answer(token_path(revoked)) == unknown
        assert answer(token_path(used_up)) == unknown
        assert unknown[0] == 404
        assert b"cannot be used" in unknown[1]
        refusals = AuditEvent.objects.filter(action="landing.link_refused")
        assert refusals.count() == 4
        assert {e.detail for e in refusals} == {
            "Unknown or expired token",
            "Link revoked",
            "Link exhausted",
        }

    def test_the_clean_address_opens_nothing_in_a_browser_that_did_not_open_the_link(self, minted: MintedLink) -> None:
        response = HttpsClient().get(page_path(minted))
        assert response.status_code == 404
        assert b"cannot be used" in response.content
        assert b"Sunny" not in response.content

    def test_opening_is_rate_limited_per_token_and_per_address(self, minted: MintedLink, settings: object) -> None:
        for _ in range(20):
            assert HttpsClient().get(token_path(minted)).status_code == 302
        assert HttpsClient().get(token_path(minted)).status_code == 429
        # Guessing other tokens from the same address runs into the address's own limit.
        statuses = [HttpsClient().get(f"/card/open/{'B' * 42}{i:x}/").status_code for i in range(10)]
        assert statuses[-1] == 429

    def test_a_forged_forwarded_for_header_does_not_reset_the_limit(self, minted: MintedLink) -> None:
        for i in range(20):
            HttpsClient().get(token_path(minted), headers={"X-Forwarded-For": f"203.0.113.{i}"})
        response = HttpsClient().get(token_path(minted), headers={"X-Forwarded-For": "198.51.100.7"})
        assert response.status_code == 429


class TestProvingPossession:
    def test_the_code_goes_to_the_contact_on_file_and_unlocks_the_wallets(
        self, recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        before = recipient.get(page_path(minted)).content.decode()
        assert "s•••@example.test" in before
        assert 'action="/card/' not in before or "/push/" not in before  # no push form yet
        assert send_code(recipient, minted).status_code == 302
        assert mail.outbox[-1].to == [SAM_EMAIL]
        assert enter_code(recipient, minted, last_code()).status_code == 302
        after = recipient.get(page_path(minted)).content.decode()
        assert f"{page_path(minted)}push/" in after
        assert "DemoPay" in after

    def test_no_push_before_the_code(self, recipient: HttpsClient, minted: MintedLink, offered_requestors: object):
        response = _push(recipient, minted)
        assert response.status_code == 302
        assert response["Location"] == page_path(minted)
        assert not PushRequest.objects.exists()

    def test_guessing_codes_hits_the_limit(self, recipient: HttpsClient, minted: MintedLink) -> None:
        send_code(recipient, minted)
        right = last_code()
        wrong = "00000000" if right != "00000000" else "11111111"
        for _ in range(5):
            assert enter_code(recipient, minted, wrong).status_code == 400
        response = enter_code(recipient, minted, right)
        assert response.status_code == 429
        assert "Too many wrong codes" in response.content.decode()
        assert AuditEvent.objects.filter(action="landing.code_failed").count() == 6

    def test_checking_codes_is_rate_limited_per_link_across_browsers(self, minted: MintedLink) -> None:
        statuses = []
        for _ in range(11):
            client = HttpsClient()
            client.get(token_path(minted))
            statuses.append(enter_code(client, minted, "12345678").status_code)
        assert statuses[-1] == 429
        assert 429 not in statuses[:10]

    def test_codes_sent_are_limited(self, recipient: HttpsClient, minted: MintedLink) -> None:
        for _ in range(3):
            assert send_code(recipient, minted).status_code == 302
        response = send_code(recipient, minted)
        assert response.status_code == 429
        assert "already sent several codes" in response.content.decode()
        assert len(mail.outbox) == 3

    def test_a_wrong_code_is_shown_beside_its_field(self, recipient: HttpsClient, minted: MintedLink) -> None:
        send_code(recipient, minted)
        page = enter_code(recipient, minted, "not a code").content.decode()
        assert 'aria-describedby="landing-code-error"' in page
        assert "That code is not right" in page


class TestPushing:
    def test_the_recipient_adds_the_gift_card_and_sees_what_happened(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        response = _push(verified_recipient, minted)
        assert response.status_code == 302
        target = response["Location"]
        assert factories.TEST_CARD_NUMBERS[2] not in target
        assert parse_qs(urlsplit(target).query)["callbackURL"][0].startswith("https://testserver/push/")

        confirmation = _come_back(verified_recipient, wallet_decides(target, "APPROVED"))

        assert "is now in DemoPay" in confirmation
        assert f'href="{page_path(minted)}"' in confirmation  # back to the card, not to an account
        assert "Sign in" not in confirmation
        push = PushRequest.objects.get()
        assert push.channel == PushRequest.Channel.LANDING
        assert push.cardholder is None
        assert push.state == PushRequest.State.RETURNED
        assert push.landing.link == minted.link
        landing = verified_recipient.get(page_path(minted)).content.decode()
        assert "Added: DemoPay, on" in landing

    def test_the_card_page_csp_takes_only_origins_of_allowed_push_uris(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        baseline = verified_recipient.get(page_path(minted))["Content-Security-Policy"]
        # Stored before the refresh checked push URIs, or written by hand: the page checks them again.
        TokenRequestor.objects.filter(trid=DEMOPAY).update(push_methods=HOSTILE_PUSH_METHODS)
        token_requestors_changed()  # as a refresh or a staff edit does
        page = verified_recipient.get(page_path(minted))
        assert page.status_code == 200
        assert csp_added_form_action(baseline, page["Content-Security-Policy"]) == ALLOWED_SOURCES["WEB"]
        android = verified_recipient.get(page_path(minted), headers={"User-Agent": ANDROID})
        assert csp_added_form_action(baseline, android["Content-Security-Policy"]) == ALLOWED_SOURCES["ANDROID"]

    def test_an_android_phone_is_sent_to_the_wallet_apps_own_scheme(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object, sandbox: SandboxServer
    ) -> None:
        sandbox.control(
            "POST",
            "token-requestors",
            {
                "tokenRequestorId": DEMOPAY,
                "name": "DemoPay Wallet Services Ltd",
                "tokenRequestorType": "WALLET",
                "supportedPushMethods": ["ANDROID", "WEB"],
                "availablePushMethods": [{"type": "ANDROID", "uri": "demopay://push/card"}],
            },
        )
        requestor = TokenRequestor.objects.get(trid=DEMOPAY)
        response = verified_recipient.post(
            f"{page_path(minted)}push/",
            {"token_requestor": requestor.pk, "idempotency_key": "form-1"},
            headers={"User-Agent": ANDROID},
        )
        assert response.status_code == 302
        assert response["Location"].startswith("demopay://push/card?pushAccountReceipts=")

    def test_a_revoked_link_stops_working_mid_flow(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        landing_link_revoke(link=minted.link, actor_label="support desk")
        response = _push(verified_recipient, minted)
        assert response.status_code == 410
        assert "withdrew this link" in response.content.decode()
        assert not PushRequest.objects.exists()
        assert verified_recipient.get(page_path(minted)).status_code == 410

    def test_an_expired_link_says_so_to_the_browser_that_opened_it(
        self, verified_recipient: HttpsClient, minted: MintedLink
    ) -> None:
        LandingLink.objects.filter(pk=minted.link.pk).update(expires_at=timezone.now())
        page = verified_recipient.get(page_path(minted))
        assert page.status_code == 410
        assert "This link has expired" in page.content.decode()
        assert "8210" not in page.content.decode()

    def test_a_used_up_link_takes_no_more_pushes(
        self, gift_card: Card, offered_requestors: object, verified_recipient: HttpsClient, minted: MintedLink
    ) -> None:
        LandingLink.objects.filter(pk=minted.link.pk).update(max_pushes=1)
        assert _push(verified_recipient, minted, key="one").status_code == 302
        second = _push(verified_recipient, minted, key="two")
        assert second.status_code == 410
        assert "used up" in second.content.decode()
        assert PushRequest.objects.count() == 1

    def test_the_last_push_of_a_link_is_taken_once_and_a_failed_push_gives_it_back(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object, sandbox: Any
    ) -> None:
        LandingLink.objects.filter(pk=minted.link.pk).update(max_pushes=1)
        sandbox.fail_next(503)
        assert _push(verified_recipient, minted, key="fails").status_code == 502
        minted.link.refresh_from_db()
        assert minted.link.pushes_started == 0  # nothing was issued: the place is free again
        assert _push(verified_recipient, minted, key="works").status_code == 302
        minted.link.refresh_from_db()
        assert (minted.link.pushes_started, minted.link.status()) == (1, LandingLink.Status.EXHAUSTED)

    def test_a_taken_place_is_checked_before_mdes_is_called(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object, sandbox: Any
    ) -> None:
        # Another tab took the last place between this page's check and the push: one conditional UPDATE decides.
        LandingLink.objects.filter(pk=minted.link.pk).update(max_pushes=2, pushes_started=2)
        before = len(sandbox.request_log())
        assert _push(verified_recipient, minted).status_code == 410
        assert len(sandbox.request_log()) == before

    def test_a_card_that_joins_a_cardholders_account_leaves_its_links(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object, cardholder: Any
    ) -> None:
        Card.objects.filter(pk=minted.link.card_id).update(cardholder=cardholder)
        assert _push(verified_recipient, minted).status_code == 410
        assert not PushRequest.objects.exists()

    def test_a_wallet_that_is_not_a_number_is_a_clear_error(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        response = verified_recipient.post(f"{page_path(minted)}push/", {"token_requestor": "abc"})
        assert response.status_code == 400
        assert "Choose a wallet or merchant first." in response.content.decode()

    def test_a_link_for_one_card_never_reveals_another(
        self, gift_card: Card, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        other_card = factories.CardFactory.create(card_number=factories.TEST_CARD_NUMBERS[3], product_kind="gift")
        other = landing_link_mint(card=other_card, purpose="gift", recipient_email="kim@example.test")
        other_client = HttpsClient()
        other_client.get(token_path(other))
        enter_code(other_client, other, (send_code(other_client, other), last_code())[1])
        other_push = _push(other_client, other, key="kim")
        assert other_push.status_code == 302
        kims = PushRequest.objects.get(landing__link=other.link)

        assert verified_recipient.get(page_path(other)).status_code == 404
        assert _push(verified_recipient, other, key="sam-tries").status_code == 404
        assert verified_recipient.get(f"/push/{kims.public_id}/").status_code == 302  # to sign-in: not Sam's
        assert "0011" not in verified_recipient.get(page_path(minted)).content.decode()
        # Sam's own push can only ever carry Sam's card, whatever the form says.
        requestor = TokenRequestor.objects.get(trid=DEMOPAY)
        verified_recipient.post(
            f"{page_path(minted)}push/",
            {"token_requestor": requestor.pk, "idempotency_key": "sam", "card": str(other_card.public_id)},
        )
        sams = PushRequest.objects.get(landing__link=minted.link)
        assert [r.card for r in sams.receipts.all()] == [gift_card]

    def test_pushes_through_a_link_are_rate_limited(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        LandingLink.objects.filter(pk=minted.link.pk).update(max_pushes=50)
        statuses = [_push(verified_recipient, minted, key=f"k{i}").status_code for i in range(11)]
        assert statuses[-1] == 429
        assert 429 not in statuses[:10]

    def test_a_closed_card_is_refused_with_the_same_answer_as_on_the_website_and_in_the_api(
        self, gift_card: Card, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ):
        gift_card.transition_to(Card.State.CLOSED)
        gift_card.save()
        response = _push(verified_recipient, minted)
        assert response.status_code == 409
        assert "cannot be added while it is closed" in response.content.decode()
        assert not PushRequest.objects.exists()


class TestDesktop:
    def test_a_desktop_sees_a_qr_code_that_opens_the_card_on_the_phone(self, recipient: HttpsClient, minted) -> None:
        page = recipient.get(page_path(minted), headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
        assert 'src="data:image/svg+xml;base64,' in page.content.decode()
        handoff = LandingAccessToken.objects.get(kind=LandingAccessToken.Kind.PHONE_HANDOFF)
        assert handoff.expires_at <= timezone.now() + timedelta(minutes=10)

    def test_a_phone_sees_no_qr_code(self, recipient: HttpsClient, minted: MintedLink) -> None:
        page = recipient.get(page_path(minted), headers={"User-Agent": IPHONE})
        assert "data:image/svg+xml" not in page.content.decode()
        assert not LandingAccessToken.objects.filter(kind=LandingAccessToken.Kind.PHONE_HANDOFF).exists()


class TestRecords:
    def test_the_token_is_stored_only_as_a_digest_and_never_logged(
        self, minted: MintedLink, caplog: pytest.LogCaptureFixture, offered_requestors: object
    ) -> None:
        caplog.set_level(logging.DEBUG)
        token = token_path(minted).rstrip("/").rsplit("/", 1)[1]
        assert len(token) >= 43  # 32 random bytes
        assert LandingAccessToken.objects.filter(token_digest=token_digest(token)).exists()
        client = HttpsClient()
        client.get(token_path(minted))
        send_code(client, minted)
        enter_code(client, minted, last_code())
        _push(client, minted)
        assert token not in caplog.text
        rows = [str(e.__dict__) for e in AuditEvent.objects.all()]
        assert not any(token in row for row in rows)

    def test_a_refused_or_limited_token_is_not_logged_either(
        self, minted: MintedLink, caplog: pytest.LogCaptureFixture
    ) -> None:
        token = token_path(minted).rstrip("/").rsplit("/", 1)[1]
        for _ in range(21):  # the last one is over the limit: 429, logged by Django as a warning
            HttpsClient().get(token_path(minted))
        cache.clear()  # a new window
        landing_link_revoke(link=minted.link, actor_label="test")
        assert HttpsClient().get(token_path(minted)).status_code == 404  # logged as "Not Found: <path>"
        console = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
        written = [console.format(r) for r in caplog.records if r.name == "django.request" and console.filter(r)]
        assert len(written) == 2
        assert all("/card/open/[redacted]/" in line for line in written)
        assert not any(token in line for line in written)

    def test_pushes_through_a_link_are_audited_with_the_link_and_the_client_address(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        _push(verified_recipient, minted)
        started = AuditEvent.objects.get(action="push.started")
        assert started.actor_label == f"landing link {minted.link.public_id}"
        assert started.client_ip == "127.0.0.1"
        assert AuditEvent.objects.get(action="push.redirected").client_ip == "127.0.0.1"

    def test_each_step_leaves_an_audit_event(
        self, verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
    ) -> None:
        _push(verified_recipient, minted)
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {
            "landing.link_minted",
            "landing.link_opened",
            "landing.code_sent",
            "landing.code_passed",
            "push.started",
            "push.receipts_issued",
        } <= actions


@pytest.mark.parametrize("token", [None, "wrong-token-wrong-token-wrong-token-wrong-token-wrong-token1"])
def test_the_landing_forms_need_the_csrf_token(minted: MintedLink, token: str | None) -> None:
    """E1 on the recipient's forms: without a valid token nothing is sent, checked or pushed."""
    client = HttpsClient(enforce_csrf_checks=True)
    client.get(token_path(minted))
    data = {"csrfmiddlewaretoken": token} if token else {}
    for suffix, form in (("code/", {"action": "send", "channel": "email"}), ("push/", {"token_requestor": "1"})):
        response = client.post(
            f"{page_path(minted)}{suffix}", {**form, **data}, headers={"Referer": "https://testserver/"}
        )
        assert response.status_code == 403, suffix
    assert not mail.outbox
    assert not PushRequest.objects.exists()


def test_the_code_is_good_for_as_long_as_a_cardholders_step_up(
    verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object, settings: Any
) -> None:
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PORTAL_STEP_UP_MAX_AGE_SECONDS + 5)):
        response = _push(verified_recipient, minted)
    assert response.status_code == 302
    assert response["Location"] == page_path(minted)  # asked to confirm again
    assert not PushRequest.objects.exists()
