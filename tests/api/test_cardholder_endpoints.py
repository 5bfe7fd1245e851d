"""The cardholder's API end to end: cards, eligible requestors, a push to the sandbox MDES, the simulated wallet's
decision reported back, and the history of pushes. MDES and the wallet pages are the real sandbox over HTTP."""

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from provisioning.models import NetworkConfiguration, PushReceipt, PushRequest
from tests import factories
from tests.api.conftest import DEMOPAY, SUNDAY_STORE, HttpsApiClient
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db


def _start(client: HttpsApiClient, cards: list[Card], trid: str = DEMOPAY, platform: str = "ANDROID", key: str = "k1"):
    return client.post(
        reverse("api:my_pushes"),
        {"cards": [str(c.public_id) for c in cards], "token_requestor": trid, "platform": platform},
        format="json",
        headers={"Idempotency-Key": key},
    )


def _wallet_decides(redirect_url: str, decision: str) -> dict[str, str]:
    """What a person does on the simulated wallet page; returns the results the wallet's callback carries."""
    page = requests.get(redirect_url, timeout=5)
    assert page.status_code == 200, page.text
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert session
    action = urlsplit(redirect_url)._replace(path=urlsplit(redirect_url).path.rsplit("/", 1)[0] + "/decision", query="")
    answer = requests.post(
        action.geturl(), data={"session": session.group(1), "decision": decision}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 303, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {key[len("results[") : -1]: values[0] for key, values in query.items() if key.startswith("results[")}


def test_my_cards_show_at_most_first_six_and_last_four(app: HttpsApiClient, card: Card) -> None:
    response = app.get(reverse("api:my_cards"))
    assert response.status_code == 200
    (listed,) = response.json()["results"]
    assert listed == {
        "id": str(card.public_id),
        "product_name": "Everyday Debit",
        "product_kind": "debit",
        "first_six": "555555",
        "last_four": "4444",
        "expiry": "12/30",
        "state": "active",
        "program": None,
    }
    assert factories.TEST_CARD_NUMBERS[0] not in response.content.decode()


def test_eligible_requestors_depend_on_platform_and_number_of_cards(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    android = app.get(reverse("api:my_token_requestors"), {"card": [str(card.public_id)], "platform": "ANDROID"}).json()
    demopay = next(r for r in android if r["trid"] == DEMOPAY)
    assert demopay["name"] == "DemoPay"
    assert demopay["push_methods"] == ["ANDROID", "WEB"]
    assert demopay["supports_digitization_data"] is True
    assert demopay["logo"]["svg"].startswith("https://testserver/api/v1/logos/")
    second = factories.CardFactory.create(cardholder=card.cardholder, card_number=factories.TEST_CARD_NUMBERS[1])
    both = app.get(
        reverse("api:my_token_requestors"), {"card": [str(card.public_id), str(second.public_id)], "platform": "WEB"}
    )
    trids = [r["trid"] for r in both.json()]
    assert SUNDAY_STORE in trids
    assert DEMOPAY not in trids  # a single-card wallet is not offered for two cards


def test_requestors_for_someone_elses_card_name_the_field(app: HttpsApiClient, card: Card) -> None:
    other = factories.CardFactory.create(
        cardholder=factories.CardholderFactory.create(), card_number=factories.TEST_CARD_NUMBERS[3]
    )
    response = app.get(reverse("api:my_token_requestors"), {"card": [str(other.public_id)], "platform": "IOS"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "card", "code": "not_found", "message": "No such card among yours."}]


def test_an_app_pushes_a_card_reports_the_wallets_answer_and_sees_the_outcome(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    started = _start(app, [card], platform="WEB")
    assert started.status_code == 201, started.content
    body = started.json()
    (issued,) = body["receipts"]
    assert issued["card"]["last_four"] == "4444"
    assert issued["expires_at"] == body["expires_at"]
    assert issued["digitization_data"]  # DemoPay takes issuer-initiated digitization data for its SDK
    query = parse_qs(urlsplit(body["redirect_url"]).query)
    assert query["pushAccountReceipts"] == [issued["receipt"]]
    assert query["callbackURL"][0].startswith("https://testserver/push/")
    push = PushRequest.objects.get()
    assert (push.channel, push.device_environment, push.state) == ("api", "WEB", "pushed")

    results = _wallet_decides(body["redirect_url"], "APPROVED")
    reported = app.post(
        reverse("api:my_push_result", args=[body["id"]]),
        {
            "results": [
                {"receipt": r, "result": value.partition("|")[0], "token_unique_reference": value.partition("|")[2]}
                for r, value in results.items()
            ]
        },
        format="json",
    )
    assert reported.status_code == 200
    assert PushReceipt.objects.get().token_unique_reference == next(iter(results.values())).partition("|")[2]
    assert reported.json()["reported"] == [{"receipt_hint": PushReceipt.objects.get().receipt_hint, "use": "used"}]
    (outcome,) = reported.json()["cards"]
    assert outcome["result"] == "APPROVED"
    assert outcome["outcome"]["text"] == "Your card •••• 4444 is now in DemoPay."
    assert issued["receipt"] not in reported.content.decode()

    history = app.get(reverse("api:my_pushes")).json()["results"]
    assert [(p["id"], p["state"], p["cards"][0]["result"]) for p in history] == [(body["id"], "returned", "APPROVED")]
    assert issued["receipt"] not in app.get(reverse("api:my_push", args=[body["id"]])).content.decode()


def test_reporting_the_result_again_changes_nothing_and_the_network_has_the_last_word(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    body = _start(app, [card], platform="WEB").json()
    receipt = body["receipts"][0]["receipt"]
    url = reverse("api:my_push_result", args=[body["id"]])
    first = app.post(url, {"results": [{"receipt": receipt, "result": "APPROVED"}]}, format="json").json()
    # The wallet never saw the receipt: the network has no token, so the reported APPROVED is corrected.
    assert first["cards"][0] | {"outcome": None} == first["cards"][0] | {
        "result": "NOT_ADDED",
        "reported_result": "APPROVED",
        "network_check": "corrected",
        "outcome": None,
    }
    again = app.post(url, {"results": [{"receipt": receipt, "result": "APPROVED"}]}, format="json").json()
    assert again["reported"][0]["use"] == "already_used"
    assert again["cards"][0]["result"] == "NOT_ADDED"
    assert AuditEvent.objects.filter(action="push.outcome_contradicted").count() == 1


def test_android_gets_the_app_uri(app: HttpsApiClient, card: Card, requestors: NetworkConfiguration) -> None:
    body = _start(app, [card], platform="ANDROID").json()
    assert "/android" in urlsplit(body["redirect_url"]).path


def test_several_cards_go_to_a_merchant_that_takes_several(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    second = factories.CardFactory.create(cardholder=card.cardholder, card_number=factories.TEST_CARD_NUMBERS[1])
    body = _start(app, [card, second], trid=SUNDAY_STORE, platform="WEB").json()
    assert len(body["receipts"]) == 2
    assert {r["digitization_data"] for r in body["receipts"]} == {None}  # Sunday Store does not support it


def test_a_requestor_that_cannot_take_the_cards_is_a_conflict(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    second = factories.CardFactory.create(cardholder=card.cardholder, card_number=factories.TEST_CARD_NUMBERS[1])
    response = _start(app, [card, second], trid=DEMOPAY)
    assert response.status_code == 409
    assert response.json()["code"] == "not_eligible"
    assert not PushRequest.objects.exists()


def test_a_suspended_card_cannot_be_pushed(app: HttpsApiClient, card: Card, requestors: NetworkConfiguration) -> None:
    card.transition_to(Card.State.SUSPENDED)
    card.save()
    response = _start(app, [card])
    assert (response.status_code, response.json()["code"]) == (409, "card_state")


def test_a_closed_card_is_refused_with_the_same_answer_as_on_the_website(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    card.transition_to(Card.State.CLOSED)
    card.save()
    response = _start(app, [card])
    assert (response.status_code, response.json()["code"]) == (409, "card_state")
    assert "cannot be added while it is closed" in response.json()["detail"]


def test_someone_elses_card_or_an_unknown_requestor_names_the_field(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    other = factories.CardFactory.create(
        cardholder=factories.CardholderFactory.create(), card_number=factories.TEST_CARD_NUMBERS[3]
    )
    response = _start(app, [other])
    assert response.json()["errors"][0]["field"] == "cards"
    unknown = _start(app, [card], trid="59999999999", key="k2")
    assert unknown.json()["errors"][0]["field"] == "token_requestor"
    assert not PushRequest.objects.exists()


def test_network_trouble_is_a_bad_gateway_naming_the_failed_push(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(503)
    response = _start(app, [card])
    assert response.status_code == 502
    problem = response.json()
    assert problem["code"] == "outcome_unknown"  # a 503 to a push: MDES may have acted on it
    push = PushRequest.objects.get()
    assert problem["push_id"] == str(push.public_id)
    assert push.state == PushRequest.State.FAILED


def test_without_an_active_network_configuration_pushes_are_unavailable_and_may_be_retried(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    NetworkConfiguration.objects.update(is_active=False)
    response = _start(app, [card], trid=DEMOPAY)
    assert (response.status_code, response.json()["code"]) == (503, "not_configured")
    NetworkConfiguration.objects.update(is_active=True)
    assert _start(app, [card], trid=DEMOPAY).status_code == 201  # the same Idempotency-Key: nothing was kept


def test_a_browser_session_needs_a_recent_step_up_of_its_own(
    session_client: HttpsApiClient, card: Card, cardholder: Cardholder, requestors: NetworkConfiguration
) -> None:
    assert _start(session_client, [card], platform="WEB").status_code == 201
    second = factories.CardFactory.create(cardholder=cardholder, card_number=factories.TEST_CARD_NUMBERS[1])
    # Within its lifetime, the session's proof covers its next pushes, of other cards too (as on the website).
    assert _start(session_client, [card, second], trid=SUNDAY_STORE, platform="WEB", key="k2").status_code == 201
    plain = HttpsApiClient()
    plain.force_login(cardholder.user)  # signed in, but no step-up at all
    assert _start(plain, [card], key="k3").json()["code"] == "step_up_required"


def _token_after(session: HttpsApiClient) -> HttpsApiClient:
    """The app, with a token the (stepped-up) web view `session` exchanged for itself."""
    minted = session.post(reverse("api:token_create"))
    assert minted.status_code == 201, minted.content
    app = HttpsApiClient()
    app.credentials(HTTP_AUTHORIZATION=f"Token {minted.json()['token']}")
    return app


def test_an_app_token_covers_the_cardholders_next_pushes_as_the_browsers_step_up_does(
    session_client: HttpsApiClient, card: Card, cardholder: Cardholder, requestors: NetworkConfiguration
) -> None:
    """One step-up covers the next pushes of its lifetime (issue 14), in the browser and in the token minted after."""
    other = factories.CardFactory.create(cardholder=cardholder, card_number=factories.TEST_CARD_NUMBERS[1])
    app = _token_after(session_client)
    assert _start(app, [card], key="first").status_code == 201
    assert _start(app, [card, other], trid=SUNDAY_STORE, key="more").status_code == 201
    assert _start(app, [other], key="other").status_code == 201


def test_an_app_token_pushes_only_while_its_step_up_is_fresh_and_reads_until_it_expires(
    session_client: HttpsApiClient, card: Card, requestors: NetworkConfiguration, settings: Any
) -> None:
    app = _token_after(session_client)
    started = _start(app, [card], key="in-time")
    assert started.status_code == 201
    later = timezone.now() + timedelta(seconds=settings.PORTAL_STEP_UP_MAX_AGE_SECONDS + 1)
    with time_machine.travel(later):
        assert _start(app, [card], key="late").json()["code"] == "step_up_required"
        assert app.get(reverse("api:my_pushes")).status_code == 200
        receipt = started.json()["receipts"][0]["receipt"]
        report = {"results": [{"receipt": receipt, "result": "APPROVED"}]}
        reported = app.post(reverse("api:my_push_result", args=[started.json()["id"]]), report, format="json")
        assert reported.status_code == 200  # reporting what the wallet said needs no step-up


def test_someone_elses_push_is_not_found(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration, issue_token: Any
) -> None:
    body = _start(app, [card], platform="WEB").json()
    stranger = HttpsApiClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(factories.CardholderFactory.create())}")
    assert stranger.get(reverse("api:my_push", args=[body["id"]])).status_code == 404
    receipt = body["receipts"][0]["receipt"]
    report = stranger.post(
        reverse("api:my_push_result", args=[body["id"]]),
        {"results": [{"receipt": receipt, "result": "APPROVED"}]},
        format="json",
    )
    assert report.status_code == 404
    assert PushReceipt.objects.get().state == PushReceipt.State.ISSUED


def test_logos_are_public_cacheable_and_answer_conditional_requests(db: None, requestors: NetworkConfiguration) -> None:
    from provisioning.models import LogoAsset

    logo = LogoAsset.objects.exclude(svg="").first()
    assert logo is not None
    client = HttpsApiClient()
    response = client.get(reverse("api:logo", args=[logo.asset_id, "svg"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get(reverse("api:logo", args=[logo.asset_id, "svg"]), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    missing = client.get(reverse("api:logo", args=["nope", "png"]), headers={"Accept": "image/png"})
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")
