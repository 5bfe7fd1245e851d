"""Who may call what: app tokens for stepped-up cardholders, API keys for program managers, CSRF for sessions (E1)."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ProgramApiKey
from audit.models import AuditEvent
from cardholders.models import Card, Cardholder, Program
from provisioning.models import PushRequest
from tests import factories
from tests.api.conftest import HttpsApiClient

pytestmark = pytest.mark.django_db


def test_a_signed_in_and_stepped_up_session_gets_an_expiring_app_token(session_client: HttpsApiClient) -> None:
    response = session_client.post(reverse("api:token_create"))
    assert response.status_code == 201
    body = response.json()
    expires_in = datetime.fromisoformat(body["expires_at"]) - timezone.now()
    assert timedelta(hours=11, minutes=59) < expires_in <= timedelta(hours=12)
    assert AuditEvent.objects.filter(action="api.token_issued").exists()


def test_without_a_fresh_step_up_there_is_no_token(cardholder: Cardholder) -> None:
    client = HttpsApiClient()
    client.force_login(cardholder.user)
    response = client.post(reverse("api:token_create"))
    assert response.status_code == 403
    assert response.json()["code"] == "step_up_required"


def test_a_token_cannot_be_had_without_signing_in(db: None) -> None:
    response = HttpsApiClient().post(reverse("api:token_create"))
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_the_app_token_reaches_the_cardholders_endpoints_until_it_expires(
    cardholder: Cardholder, card: Card, issue_token: Callable[[Cardholder], str], settings: object
) -> None:
    app = HttpsApiClient()
    app.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(cardholder)}")
    assert app.get(reverse("api:my_cards")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=12, minutes=1)):
        expired = app.get(reverse("api:my_cards"))
    assert expired.status_code == 401
    assert expired.json()["code"] == "authentication_failed"
    assert expired["WWW-Authenticate"] == "Token"


def test_signing_out_of_the_browser_ends_the_tokens_that_session_minted(
    session_client: HttpsApiClient, cardholder: Cardholder, issue_token: Callable[[Cardholder], str]
) -> None:
    minted = [session_client.post(reverse("api:token_create")).json()["token"] for _ in range(2)]
    other_session = issue_token(cardholder)  # another web view, still signed in
    assert session_client.post(reverse("account_logout")).status_code == 302
    for token, status in [(minted[0], 401), (minted[1], 401), (other_session, 200)]:
        app = HttpsApiClient()
        app.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert app.get(reverse("api:my_cards")).status_code == status
    ended = AuditEvent.objects.get(action="api.tokens_ended_at_sign_out")
    assert ended.after == {"tokens": 2}


def test_a_token_says_until_when_it_may_push(session_client: HttpsApiClient, settings: object) -> None:
    body = session_client.post(reverse("api:token_create")).json()
    pushes_until = datetime.fromisoformat(body["pushes_until"])
    assert timezone.now() < pushes_until <= timezone.now() + timedelta(minutes=5)
    assert pushes_until < datetime.fromisoformat(body["expires_at"])


def test_deleting_the_current_token_signs_the_app_out(app: HttpsApiClient) -> None:
    assert app.delete(reverse("api:token_current")).status_code == 204
    assert app.get(reverse("api:my_cards")).status_code == 401
    assert AuditEvent.objects.filter(action="api.token_revoked").exists()


def test_a_staff_account_without_cards_is_not_a_cardholder(staff_user: object) -> None:
    client = HttpsApiClient()
    client.force_login(staff_user)  # type: ignore[arg-type]
    response = client.get(reverse("api:my_cards"))
    assert response.status_code == 403
    assert response.json()["code"] == "not_a_cardholder"


def test_each_credential_reaches_only_its_own_side(app: HttpsApiClient, manager: HttpsApiClient) -> None:
    assert app.get(reverse("api:program_cards")).status_code == 401
    assert manager.get(reverse("api:my_cards")).status_code == 401


@pytest.mark.parametrize("header", ["Api-Key nope.nope", "Api-Key ", "Token nope", "Bearer x"])
def test_unknown_credentials_are_refused(db: None, header: str) -> None:
    client = HttpsApiClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(reverse("api:program_cards")).status_code == 401


def test_a_revoked_or_expired_key_stops_working(program: Program) -> None:
    revoked, revoked_key = ProgramApiKey.objects.create_key(name="old", program=program)
    ProgramApiKey.objects.filter(pk=revoked.pk).update(revoked=True)
    _, expired_key = ProgramApiKey.objects.create_key(
        name="temp", program=program, expiry_date=timezone.now() - timedelta(minutes=1)
    )
    for key in (revoked_key, expired_key):
        client = HttpsApiClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        response = client.get(reverse("api:program_cards"))
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"


def test_a_cardholder_sees_only_their_own_cards(app: HttpsApiClient, card: Card) -> None:
    stranger = factories.CardholderFactory.create()
    factories.CardFactory.create(cardholder=stranger, card_number=factories.TEST_CARD_NUMBERS[3])
    ids = [c["id"] for c in app.get(reverse("api:my_cards")).json()["results"]]
    assert ids == [str(card.public_id)]


def test_a_program_manager_sees_only_its_programs_cards(
    manager: HttpsApiClient, gift_card: Card, network_config: object
) -> None:
    other = factories.ProgramFactory.create()
    factories.CardFactory.create(program=other, card_number=factories.TEST_CARD_NUMBERS[3])
    ids = [c["id"] for c in manager.get(reverse("api:program_cards")).json()["results"]]
    assert ids == [str(gift_card.public_id)]


# --- E1: a browser session's state-changing API calls need the CSRF token ------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token-wrong-token-wrong-token-wrong-token-wrong-token1"])
def test_session_posts_without_a_valid_csrf_token_are_refused(card: Card, token: str | None) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(card.cardholder.user)  # type: ignore[union-attr]
    headers = {"Referer": "https://testserver/", "Idempotency-Key": "csrf-1"}
    if token:
        headers["X-CSRFToken"] = token
    body = {"cards": [str(card.public_id)], "token_requestor": "50100000011", "platform": "WEB"}
    for url in (reverse("api:token_create"), reverse("api:my_pushes")):
        response = client.post(url, body, content_type="application/json", secure=True, headers=headers)
        assert response.status_code == 403, url
        assert response.json()["code"] == "csrf_failed"
    assert not PushRequest.objects.exists()


def test_a_session_post_with_the_csrf_token_passes_the_check(card: Card) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(card.cardholder.user)  # type: ignore[union-attr]
    client.get(reverse("home"), secure=True)
    token = client.cookies["__Host-csrftoken"].value
    response = client.post(
        reverse("api:token_create"),
        content_type="application/json",
        secure=True,
        headers={"Referer": "https://testserver/", "X-CSRFToken": token},
    )
    assert response.json()["code"] == "step_up_required"  # past CSRF, stopped by the missing step-up


def test_an_app_token_needs_no_csrf_token(card: Card, issue_token: Callable[[Cardholder], str]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.get(
        reverse("api:my_cards"),
        secure=True,
        headers={"Authorization": f"Token {issue_token(card.cardholder)}"},  # type: ignore[arg-type]
    )
    assert response.status_code == 200
