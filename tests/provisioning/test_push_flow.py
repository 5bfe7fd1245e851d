"""The cardholder's push flow end to end: step-up, choose, push to the sandbox MDES, the simulated wallet, return.

The portal runs under Django's test client; MDES and the token requestor pages are the real sandbox over HTTP.
"""

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import time_machine
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from provisioning import refresh
from provisioning.mdes.callback import RECEIPT_MAX_LENGTH
from provisioning.models import NetworkConfiguration, PushReceipt, PushRequest, TokenRequestor
from provisioning.requestor_cache import token_requestors_changed
from provisioning.selectors import MAX_CARDS_PER_PUSH
from tests.csp import ALLOWED_SOURCES, HOSTILE_PUSH_METHODS, csp_added_form_action
from tests.factories import TEST_CARD_NUMBERS, CardFactory
from tests.fixtures.sandbox_server import SandboxServer
from tests.https_client import HttpsClient
from tests.wallet import wallet_decides

pytestmark = pytest.mark.django_db

DEMOPAY, SUNDAY_STORE = "50100000011", "50100000022"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"


def _choose(client: Client, cards: list[Card], user_agent: str = "") -> Any:
    return client.get(
        reverse("provisioning:choose"),
        {"card": [str(c.public_id) for c in cards]},
        headers={"User-Agent": user_agent} if user_agent else None,
    )


def _push(client: Client, cards: list[Card], trid: str, key: str = "form-1", user_agent: str = "") -> Any:
    requestor = TokenRequestor.objects.get(trid=trid)
    return client.post(
        reverse("provisioning:push_start"),
        {"card": [c.public_id for c in cards], "token_requestor": requestor.pk, "idempotency_key": key},
        headers={"User-Agent": user_agent} if user_agent else None,
    )


def _come_back(client: Client, callback: str) -> str:
    parts = urlsplit(callback)
    assert parts.netloc == "testserver"
    response = client.get(parts.path, parse_qs(parts.query))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize(
    ("decision", "words"),
    [
        ("APPROVED", "is now in DemoPay"),
        ("DUPLICATE_REQUEST", "was already in DemoPay"),
        ("DECLINED", "was declined"),
        ("CANCELLED", "You cancelled"),
        ("REQUIRE_ADDITIONAL_AUTHENTICATION", "needs to check it is you"),
    ],
)
def test_cardholder_adds_a_card_and_sees_what_happened(portal: Client, card: Card, decision: str, words: str) -> None:
    choose = _choose(portal, [card])
    assert choose.status_code == 200
    assert "DemoPay" in choose.content.decode()
    response = _push(portal, [card], DEMOPAY)
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith("http://127.0.0.1:")  # the sandbox's WEB push URI, as MDES returned it
    query = parse_qs(urlsplit(target).query)
    assert query["callbackURL"][0].startswith("https://testserver/push/")
    assert query["locale"] == ["en_US"]
    assert TEST_CARD_NUMBERS[0] not in target

    page = _come_back(portal, wallet_decides(target, decision))

    assert words in page
    push = PushRequest.objects.get()
    assert push.state == PushRequest.State.RETURNED
    assert push.receipts.get().result == decision
    assert TEST_CARD_NUMBERS[0] not in page


def test_the_form_sends_the_browser_only_where_mdes_said_and_csp_allows_it(portal: Client, card: Card) -> None:
    choose = _choose(portal, [card])
    form_action = next(p for p in choose["Content-Security-Policy"].split(";") if "form-action" in p)
    push = _push(portal, [card], DEMOPAY)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(push["Location"]))
    assert origin in form_action


@pytest.mark.parametrize(("device", "user_agent"), [("WEB", ""), ("ANDROID", ANDROID)])
def test_the_wallet_page_csp_takes_only_origins_of_allowed_push_uris(
    portal: Client, card: Card, device: str, user_agent: str
) -> None:
    baseline = _choose(portal, [card], user_agent)["Content-Security-Policy"]
    # Stored before the refresh checked push URIs, or written by hand: the page checks them again.
    TokenRequestor.objects.filter(trid=DEMOPAY).update(push_methods=HOSTILE_PUSH_METHODS)
    token_requestors_changed()  # as a refresh or a staff edit does
    page = _choose(portal, [card], user_agent)
    assert page.status_code == 200
    assert csp_added_form_action(baseline, page["Content-Security-Policy"]) == ALLOWED_SOURCES[device]


def _demopay_answers_with(sandbox: SandboxServer, push_methods: list[dict[str, str]]) -> None:
    """From now on MDES answers pushes to DemoPay with these availablePushMethods (the portal keeps its list)."""
    sandbox.control(
        "POST",
        "token-requestors",
        {
            "tokenRequestorId": DEMOPAY,
            "name": "DemoPay Wallet Services Ltd",
            "consumerFacingEntityName": "DemoPay",
            "tokenRequestorType": "WALLET",
            "supportedPushMethods": ["ANDROID", "IOS", "WEB"],
            "supportedAccountHolderData": ["NAME", "ADDRESS", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"],
            "availablePushMethods": push_methods,
        },
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://a.example; script-src * 'unsafe-inline'",
        "https://user:pw@wallet.example/push",
        "https://wallet.example:99999/push",
        "http://wallet.example/push",
        "javascript:alert(document.domain)//",
    ],
)
def test_a_push_uri_mdes_answers_with_is_checked_again_before_the_browser_goes_there(
    portal: Client, card: Card, sandbox: SandboxServer, uri: str
) -> None:
    _demopay_answers_with(sandbox, [{"type": "WEB", "uri": uri}])
    response = _push(portal, [card], DEMOPAY)
    assert response.status_code == 502
    assert "cannot be opened from this device" in response.content.decode()
    push = PushRequest.objects.get()
    assert (push.state, push.error_code) == (PushRequest.State.FAILED, "NO_USABLE_PUSH_METHOD")


@pytest.mark.parametrize(
    ("android_uri", "goes_to"),
    [
        ("demopay://push/card", "demopay://push/card?pushAccountReceipts="),  # the wallet app's own scheme
        ("javascript:alert(document.domain)//", "https://wallet.example/push?pushAccountReceipts="),  # else the web
        ("DemoPay://push/card", "https://wallet.example/push?pushAccountReceipts="),  # Android schemes are lowercase
    ],
)
def test_an_android_phone_goes_to_the_app_uri_only_if_it_is_allowed(
    portal: Client, card: Card, sandbox: SandboxServer, android_uri: str, goes_to: str
) -> None:
    _demopay_answers_with(
        sandbox, [{"type": "ANDROID", "uri": android_uri}, {"type": "WEB", "uri": "https://wallet.example/push"}]
    )
    response = _push(portal, [card], DEMOPAY, user_agent=ANDROID)
    assert response.status_code == 302
    assert response["Location"].startswith(goes_to)


def test_android_gets_the_app_uri_and_a_desktop_the_web_one(portal: Client, card: Card) -> None:
    android = _push(portal, [card], DEMOPAY, key="a", user_agent=ANDROID)
    assert "/android" in urlsplit(android["Location"]).path
    web = _push(portal, [card], DEMOPAY, key="b")
    assert urlsplit(web["Location"]).path.endswith("/push")


def test_several_cards_go_to_a_merchant_that_takes_several(portal: Client, card: Card) -> None:
    second = CardFactory.create(cardholder=card.cardholder, card_number=TEST_CARD_NUMBERS[1])
    choose = _choose(portal, [card, second]).content.decode()
    assert "Sunday Store" in choose
    assert "DemoPay" not in choose  # a single-card wallet is not offered for two cards
    target = _push(portal, [card, second], SUNDAY_STORE)["Location"]
    # The token requestor guide: with a signature, the JWS goes alone as pushAccountData.
    assert list(parse_qs(urlsplit(target).query)) == ["pushAccountData"]
    page = _come_back(portal, wallet_decides(target, "APPROVED"))
    assert page.count("is now in Sunday Store") == 2


def test_a_resubmitted_form_does_not_push_twice(portal: Client, card: Card) -> None:
    first = _push(portal, [card], DEMOPAY, key="same")
    again = _push(portal, [card], DEMOPAY, key="same")
    assert first.status_code == again.status_code == 302
    push = PushRequest.objects.get()
    assert again["Location"] == reverse("provisioning:push_detail", args=[push.public_id])


def test_replaying_the_callback_changes_nothing(portal: Client, card: Card) -> None:
    callback = wallet_decides(_push(portal, [card], DEMOPAY)["Location"], "APPROVED")
    _come_back(portal, callback)
    replay = urlsplit(callback).query.replace("APPROVED", "DECLINED")
    page = _come_back(portal, f"https://testserver{urlsplit(callback).path}?{replay}")
    assert "is now in DemoPay" in page
    assert PushReceipt.objects.get().result == "APPROVED"


def test_someone_elses_callback_reveals_nothing(portal: Client, card: Card) -> None:
    callback = wallet_decides(_push(portal, [card], DEMOPAY)["Location"], "APPROVED")
    stranger = HttpsClient()
    stranger.force_login(_stranger())
    parts = urlsplit(callback)
    assert stranger.get(parts.path, parse_qs(parts.query)).status_code == 404
    assert PushReceipt.objects.get().state == PushReceipt.State.ISSUED


def _stranger() -> Any:
    from tests.factories import CardholderFactory

    return CardholderFactory.create().user


def test_no_push_without_a_recent_second_factor(
    sandbox_network_config: NetworkConfiguration, cardholder: Cardholder, card: Card, sandbox: SandboxServer
) -> None:
    client = HttpsClient()
    client.force_login(cardholder.user)
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    choose = _choose(client, [card])
    assert choose.status_code == 302
    assert choose["Location"].startswith(reverse("step_up"))
    push = _push(client, [card], DEMOPAY)
    assert push.status_code == 302
    assert push["Location"].startswith(reverse("step_up"))
    assert not PushRequest.objects.exists()
    assert not [r for r in sandbox.request_log() if "pushMultipleAccounts" in r.get("path", "")]


def test_network_trouble_ends_on_a_page_that_says_so_and_a_failed_push(
    portal: Client, card: Card, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(503)  # a 5xx to a push: MDES may or may not have issued receipts
    response = _push(portal, [card], DEMOPAY)
    assert response.status_code == 502
    assert "could not confirm whether the card network received this request" in response.content.decode()
    push = PushRequest.objects.get()
    assert push.state == PushRequest.State.FAILED
    assert AuditEvent.objects.filter(action="push.failed", object_id=str(push.pk)).exists()


def test_an_expired_receipt_is_refused_by_the_wallet_and_reported(
    portal: Client, card: Card, sandbox: SandboxServer, settings: Any
) -> None:
    target = _push(portal, [card], DEMOPAY)["Location"]
    sandbox.shift_clock(16 * 60)
    page = requests.get(target, timeout=5)
    assert page.status_code == 409
    assert "expired" in page.text


def test_cards_of_another_cardholder_cannot_be_pushed(portal: Client, card: Card) -> None:
    other = CardFactory.create(cardholder=_stranger().cardholder, card_number=TEST_CARD_NUMBERS[3])
    assert _choose(portal, [other]).status_code == 404
    assert _push(portal, [other], DEMOPAY).status_code == 404


def test_get_never_pushes(portal: Client, card: Card) -> None:
    assert portal.get(reverse("provisioning:push_start")).status_code == 405


def test_push_initiation_is_rate_limited_per_cardholder(portal: Client, card: Card) -> None:
    from provisioning.views import PUSHES_PER_WINDOW

    for number in range(PUSHES_PER_WINDOW):
        assert _push(portal, [card], DEMOPAY, key=f"k{number}").status_code == 302
    with time_machine.travel(time.time() + 4 * 60 + 1):
        blocked = _push(portal, [card], DEMOPAY, key="one-too-many")
        choose = _choose(portal, [card]).content.decode()
    assert blocked.status_code == 429
    assert "Please try again in 6 minutes." in blocked.content.decode()  # the real time left, not "ten minutes"
    # The wallet step no longer offers what the limit would refuse, and says how long until it does again.
    assert "You can continue in 6 minutes." in choose
    assert '<button type="submit" disabled>Continue</button>' in choose
    assert PushRequest.objects.count() == PUSHES_PER_WINDOW


def test_the_choose_page_keeps_its_query_count_as_requestors_grow(portal: Client, card: Card) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from provisioning.models import EnabledAccountRange
    from tests.provisioning.factories import TokenRequestorFactory

    assert _choose(portal, [card]).status_code == 200  # binds the step-up to the card: a session write, once
    token_requestors_changed()
    with CaptureQueriesContext(connection) as few:
        assert _choose(portal, [card]).status_code == 200
    for number in range(10):
        extra = TokenRequestorFactory.create(
            consumer_facing_name=f"Extra {number}",
            offered=True,
            push_methods=[{"type": "WEB", "uri": "https://x.test/p"}],
        )
        EnabledAccountRange.objects.create(token_requestor=extra, range_start=card.account_range_start)
    token_requestors_changed()  # as the refresh that lists them does
    with CaptureQueriesContext(connection) as many:
        assert _choose(portal, [card]).status_code == 200
    assert len(many) == len(few)


def test_choosing_no_card_explains_instead_of_failing(portal: Client) -> None:
    response = portal.get(reverse("provisioning:choose"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Choose one or more cards first." in response.content.decode()


def test_one_second_factor_covers_the_sessions_next_pushes_until_it_expires(
    portal: Client, card: Card, settings: Any
) -> None:
    """D6: card A, then B, then A again cost one code, not three; once the proof is older than its lifetime, the
    next push asks again (the proof is bound to this session and user: see test_no_push_without_…)."""
    second = CardFactory.create(cardholder=card.cardholder, card_number=TEST_CARD_NUMBERS[1])
    for number, chosen in enumerate([card, second, card]):
        assert _choose(portal, [chosen]).status_code == 200
        assert _push(portal, [chosen], DEMOPAY, key=f"push-{number}")["Location"].startswith("http://127.0.0.1")
    assert PushRequest.objects.count() == 3
    with time_machine.travel(time.time() + settings.PORTAL_STEP_UP_MAX_AGE_SECONDS + 1):
        late = _push(portal, [second], DEMOPAY, key="late")
    assert late["Location"].startswith(reverse("step_up"))
    assert PushRequest.objects.count() == 3


def test_pushes_are_also_limited_per_client_address(portal: Client, card: Card, settings: Any) -> None:
    from core import rate_limits

    for _ in range(30):
        assert rate_limits._hit("rate:push-start:ip:127.0.0.1", 30, 600)
    blocked = _push(portal, [card], DEMOPAY, key="from-a-busy-address")
    assert blocked.status_code == 429
    assert not PushRequest.objects.exists()


def test_a_wallet_that_is_not_a_number_is_a_clear_error(portal: Client, card: Card) -> None:
    response = portal.post(reverse("provisioning:push_start"), {"card": [card.public_id], "token_requestor": "abc"})
    assert response.status_code == 400
    assert "Choose a wallet or merchant first." in response.content.decode()


def test_a_closed_card_is_refused_with_the_same_answer_as_in_the_api(portal: Client, card: Card) -> None:
    card.transition_to(Card.State.CLOSED)
    card.save()
    response = _push(portal, [card], DEMOPAY)
    assert response.status_code == 409
    assert "cannot be added while it is closed" in response.content.decode()
    assert not PushRequest.objects.exists()


def _write_transactions(statements: list[str]) -> list[list[str]]:
    """The transactions that would commit outside the test's own: each top-level atomic block (a savepoint here)
    that writes, and each write made in autocommit."""
    transactions: list[list[str]] = []
    depth = 0
    for sql in statements:
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb == "SAVEPOINT":
            if depth == 0:
                transactions.append([])
            depth += 1
        elif verb == "RELEASE" or (verb == "ROLLBACK" and "SAVEPOINT" in sql.upper()):
            depth -= 1
        elif verb in {"INSERT", "UPDATE", "DELETE"}:
            if depth == 0:
                transactions.append([sql])
            else:
                transactions[-1].append(sql)
    return [writes for writes in transactions if writes]


def test_a_push_commits_twice_and_leaves_the_shared_requestor_row_alone(portal: Client, card: Card) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert _push(portal, [card], DEMOPAY, key="first").status_code == 302  # learns the requestor's signature support
    with CaptureQueriesContext(connection) as queries:
        assert _push(portal, [card], DEMOPAY, key="second").status_code == 302
    statements = [query["sql"] for query in queries.captured_queries]
    transactions = _write_transactions(statements)
    # Recorded before MDES is called (the push, its audit event); then the receipt, the pushed and the redirected
    # states with their two audit events, durable together before the browser is sent on.
    assert [len(writes) for writes in transactions] == [2, 5]
    assert not any("provisioning_tokenrequestor" in sql for writes in transactions for sql in writes)
    # This test's own look-up of the requestor; then session, user, cardholder, cards, requestor, configuration (the
    # idempotency key is left to its unique index).
    assert sum(1 for sql in statements if sql.lstrip().upper().startswith("SELECT")) <= 7


@pytest.mark.parametrize(
    "extra",
    [
        [(f"results[MCC-{n:036d}]", "APPROVED") for n in range(MAX_CARDS_PER_PUSH)],  # one more than a push has
        [("results[" + "R" * (RECEIPT_MAX_LENGTH + 1) + "]", "APPROVED")],  # longer than any receipt MDES issues
        [("results[]", "APPROVED")],
    ],
    ids=["too many results", "overlong receipt", "empty receipt"],
)
def test_a_callback_no_token_requestor_sends_is_refused_and_records_nothing(
    portal: Client, card: Card, extra: list[tuple[str, str]]
) -> None:
    callback = wallet_decides(_push(portal, [card], DEMOPAY)["Location"], "APPROVED")
    parts = urlsplit(callback)
    response = portal.get(f"{parts.path}?{parts.query}&{urlencode(extra)}")
    assert response.status_code == 400
    assert "answer we cannot read" in response.content.decode()
    assert PushReceipt.objects.get().state == PushReceipt.State.ISSUED
    assert AuditEvent.objects.filter(action="push.callback_refused", outcome=AuditEvent.Outcome.FAILURE).exists()
    _come_back(portal, callback)  # the token requestor's own callback still counts
    assert PushReceipt.objects.get().state == PushReceipt.State.USED


def test_a_result_code_no_token_requestor_sends_is_kept_as_unknown(portal: Client, card: Card) -> None:
    callback = wallet_decides(_push(portal, [card], DEMOPAY)["Location"], "APPROVED")
    _come_back(portal, callback.replace("=APPROVED", "=" + "X" * 10_000))
    receipt = PushReceipt.objects.get()
    assert receipt.reported_result == PushReceipt.Result.UNKNOWN
    assert receipt.result == PushReceipt.Result.APPROVED  # the network has the token the wallet made: its word wins
    returned = AuditEvent.objects.get(action="push.returned")
    assert returned.after is not None
    assert returned.after["results"] == [PushReceipt.Result.UNKNOWN]
