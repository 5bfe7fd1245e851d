"""Idempotency-Key: a retry gets the first answer and the work is done once; the key is one credential's; the kept
answer is sealed and ends with the receipts in it."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.idempotency import idempotency_claim, idempotency_records_purge, request_fingerprint
from api.models import IdempotencyRecord
from api.problems import Problem
from api.tasks import purge_idempotency_records
from cardholders.models import Card, Cardholder
from landing.models import LandingLink
from provisioning.models import NetworkConfiguration, PushRequest
from tests.api.conftest import DEMOPAY, HttpsApiClient, step_up_by_email
from tests.fixtures.sandbox_server import PUSH_PATH, SandboxServer

pytestmark = pytest.mark.django_db


def _start(app: HttpsApiClient, card: Card, key: str | None = "retry-1", platform: str = "WEB") -> Any:
    return app.post(
        reverse("api:my_pushes"),
        {"cards": [str(card.public_id)], "token_requestor": DEMOPAY, "platform": platform},
        format="json",
        headers={"Idempotency-Key": key} if key else {},
    )


def _pushes_sent(sandbox: SandboxServer) -> int:
    return len([r for r in sandbox.request_log() if PUSH_PATH.endswith(r.get("path", "-"))])


def test_a_retried_push_gets_the_first_answer_and_mdes_is_asked_once(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    first = _start(app, card)
    again = _start(app, card)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert PushRequest.objects.count() == 1
    assert _pushes_sent(sandbox) == 1


def test_the_push_start_demands_a_key(app: HttpsApiClient, card: Card, requestors: NetworkConfiguration) -> None:
    response = _start(app, card, key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _start(app, card, key="has spaces").json()["code"] == "idempotency_key_invalid"


def test_the_same_key_for_another_request_is_refused(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    _start(app, card, platform="WEB")
    other = _start(app, card, platform="IOS")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert PushRequest.objects.count() == 1


def test_a_request_still_in_progress_holds_the_key(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    # What a concurrent duplicate finds: the first request's claim, not yet completed.
    first = _start(app, card, key="warm-up")  # any request, for its credential's name
    record = IdempotencyRecord.objects.get(key="warm-up")
    IdempotencyRecord.objects.create(
        credential=record.credential, key="busy", request_fingerprint="0" * 64, state="in_progress"
    )
    response = _start(app, card, key="busy")
    assert first.status_code == 201
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_in_use")
    assert response["Retry-After"]


def test_two_credentials_may_use_the_same_key(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration, issue_token: Any
) -> None:
    second_app = HttpsApiClient()
    second_app.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(card.cardholder)}")
    assert _start(app, card, key="same").status_code == 201
    assert _start(second_app, card, key="same").status_code == 201
    assert PushRequest.objects.count() == 2


def test_the_kept_answer_is_sealed_and_ends_when_its_receipts_expire(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration
) -> None:
    first = _start(app, card)
    receipt = first.json()["receipts"][0]["receipt"]
    record = IdempotencyRecord.objects.get()
    assert record.response_body is not None
    assert record.body_expires_at is not None
    assert receipt.encode() not in bytes(record.response_body)
    assert record.body_expires_at.isoformat().replace("+00:00", "Z") == first.json()["expires_at"]
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        late = _start(app, card)
        assert (late.status_code, late.json()["code"]) == (410, "idempotency_response_expired")
        purge_idempotency_records.apply()
    assert IdempotencyRecord.objects.get().response_body is None
    assert PushRequest.objects.count() == 1


def test_records_are_forgotten_after_a_day(app: HttpsApiClient, card: Card, requestors: NetworkConfiguration) -> None:
    _start(app, card)
    assert idempotency_records_purge(now=timezone.now() + timedelta(hours=25)) == (1, 1)
    assert not IdempotencyRecord.objects.exists()


def test_a_retried_landing_link_mints_one_link(manager: HttpsApiClient, gift_card: Card) -> None:
    body = {"card": str(gift_card.public_id), "purpose": "gift", "recipient_email": "alice@example.test"}
    headers = {"Idempotency-Key": "mint-1"}
    first = manager.post(reverse("api:program_landing_links"), body, format="json", headers=headers)
    again = manager.post(reverse("api:program_landing_links"), body, format="json", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["url"] == first.json()["url"]
    assert LandingLink.objects.count() == 1


def test_a_replayed_error_keeps_the_problem_shape(manager: HttpsApiClient, gift_card: Card) -> None:
    body = {"card": str(gift_card.public_id), "purpose": "nonsense", "recipient_email": "alice@example.test"}
    headers = {"Idempotency-Key": "mint-2"}
    first = manager.post(reverse("api:program_landing_links"), body, format="json", headers=headers)
    again = manager.post(reverse("api:program_landing_links"), body, format="json", headers=headers)
    assert first.status_code == again.status_code == 400
    assert again["Content-Type"] == "application/problem+json"
    assert again.json() == first.json()


def test_a_claim_is_taken_by_one_insert(db: None) -> None:
    request = Request(APIRequestFactory().post("/api/v1/x/", {"a": 1}, format="json"))
    fingerprint = request_fingerprint(request)
    claim = idempotency_claim(credential="user:1", key="k", fingerprint=fingerprint)
    assert isinstance(claim, IdempotencyRecord)
    with pytest.raises(Problem) as caught:
        idempotency_claim(credential="user:1", key="k", fingerprint=fingerprint)
    assert caught.value.problem_code == "idempotency_key_in_use"


def test_another_session_of_the_same_cardholder_replays_nothing(
    session_client: HttpsApiClient, cardholder: Cardholder
) -> None:
    """A browser session's keys are its own: a session that has not stepped up cannot fetch a token by replay."""
    first = session_client.post(reverse("api:token_create"), headers={"Idempotency-Key": "app-login-1"})
    assert first.status_code == 201
    other = HttpsApiClient()
    other.force_login(cardholder.user)
    replay = other.post(reverse("api:token_create"), headers={"Idempotency-Key": "app-login-1"})
    assert replay.status_code == 403
    assert replay.json()["code"] == "step_up_required"
    assert "Idempotent-Replayed" not in replay


def test_a_refusal_for_a_missing_step_up_is_not_kept(cardholder: Cardholder) -> None:
    """After stepping up, the same request with the same key is carried out (the 403 released the key)."""
    client = HttpsApiClient()
    client.force_login(cardholder.user)
    refused = client.post(reverse("api:token_create"), headers={"Idempotency-Key": "login-2"})
    assert refused.status_code == 403
    step_up_by_email(client)
    assert client.post(reverse("api:token_create"), headers={"Idempotency-Key": "login-2"}).status_code == 201
