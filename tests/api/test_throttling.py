"""F1 and F3 for the API: write endpoints are limited per credential AND per client address (request N+1 → 429),
every request is throttled per credential, and a spoofed X-Forwarded-For resets nothing."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from provisioning.models import NetworkConfiguration
from tests import factories
from tests.api.conftest import DEMOPAY, HttpsApiClient
from tests.metrics import moved, scrape

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings: Any) -> dict[str, dict[str, int]]:
    settings.API_WRITE_RATE_LIMITS = {
        "push_start": {"per_credential": 2, "per_address": 3, "window_seconds": 600},
        "push_result": {"per_credential": 2, "per_address": 3, "window_seconds": 600},
        "token_create": {"per_credential": 5, "per_address": 30, "window_seconds": 600},
        "landing_link_create": {"per_credential": 2, "per_address": 3, "window_seconds": 3600},
        "landing_link_revoke": {"per_credential": 2, "per_address": 3, "window_seconds": 3600},
        "card_tokens_check": {"per_credential": 2, "per_address": 3, "window_seconds": 600},
        "card_token_change": {"per_credential": 2, "per_address": 3, "window_seconds": 600},
    }
    limits: dict[str, dict[str, int]] = settings.API_WRITE_RATE_LIMITS
    return limits


def _start(client: HttpsApiClient, card: Card, key: str, **extra: Any) -> Any:
    body = {"cards": [str(card.public_id)], "token_requestor": DEMOPAY, "platform": "WEB"}
    return client.post(reverse("api:my_pushes"), body, format="json", headers={"Idempotency-Key": key}, **extra)


def test_push_starts_are_limited_per_credential(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration, limits: Any
) -> None:
    assert [_start(app, card, f"k{n}").status_code for n in range(3)] == [201, 201, 429]
    refused = _start(app, card, "k9")
    assert refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "600"
    assert AuditEvent.objects.filter(action="api.rate_limited", detail="push_start").exists()


def test_a_replay_is_not_counted(
    app: HttpsApiClient, card: Card, requestors: NetworkConfiguration, limits: Any
) -> None:
    assert [_start(app, card, "same").status_code for _ in range(4)] == [201, 201, 201, 201]


def test_push_starts_are_limited_per_client_address_across_credentials(
    card: Card, requestors: NetworkConfiguration, limits: Any, issue_tokens: Callable[[Cardholder, int], list[str]]
) -> None:
    codes = []
    for n, token in enumerate(issue_tokens(card.cardholder, 4)):  # type: ignore[arg-type]
        app = HttpsApiClient()  # a new token each time: the per-credential limit never bites, the address one does
        app.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        codes.append(_start(app, card, f"k{n}").status_code)
    assert codes == [201, 201, 201, 429]


def test_a_spoofed_forwarded_for_does_not_reset_the_address_limit(
    card: Card, requestors: NetworkConfiguration, limits: Any, issue_tokens: Callable[[Cardholder, int], list[str]]
) -> None:
    codes = []
    for n, token in enumerate(issue_tokens(card.cardholder, 4)):  # type: ignore[arg-type]
        app = HttpsApiClient()
        app.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        codes.append(_start(app, card, f"k{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code)
    assert codes[-1] == 429


def test_landing_links_are_limited_per_key(manager: HttpsApiClient, gift_card: Card, limits: Any) -> None:
    body = {"card": str(gift_card.public_id), "purpose": "gift", "recipient_email": "alice@example.test"}
    codes = [manager.post(reverse("api:program_landing_links"), body, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_checks_and_changes_of_card_tokens_are_limited_per_credential(
    app: HttpsApiClient, card: Card, limits: Any
) -> None:
    """Counted before anything is looked up: guessing token ids is limited too."""
    unknown = uuid.uuid4()
    for name in ("my_card_token_suspend", "my_card_token_resume", "my_card_token_remove"):
        app.post(reverse(f"api:{name}", args=[unknown]), {"everywhere": True}, format="json")
    check = reverse("api:my_card_tokens_check", args=[uuid.uuid4()])
    answers = [app.post(check).status_code for _ in range(3)]
    assert answers == [404, 404, 429]
    assert AuditEvent.objects.filter(action="api.rate_limited", detail="card_token_change").exists()


def test_every_request_is_throttled_per_credential(app: HttpsApiClient, card: Card, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_credential": "3/min", "api_anonymous": "100/min"},
    }
    codes = [app.get(reverse("api:my_cards")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = app.get(reverse("api:my_cards"))
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    other = HttpsApiClient()
    other.force_login(factories.CardholderFactory.create().user)
    assert other.get(reverse("api:my_cards")).status_code == 200  # another credential has its own budget


def test_throttle_refusals_are_counted_by_scope(app: HttpsApiClient, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_credential": "2/min", "api_anonymous": "1/min"},
    }
    _, before = scrape(app)
    assert [app.get(reverse("api:my_cards")).status_code for _ in range(4)] == [200, 200, 429, 429]
    logo = reverse("api:logo", kwargs={"asset_id": "no-such-logo", "image_format": "svg"})
    assert [HttpsApiClient().get(logo).status_code for _ in range(2)] == [404, 429]  # no credential: per address

    _, after = scrape(app)
    assert moved(before, after, "portal_api_throttled_total", scope="api_credential") == 2
    assert moved(before, after, "portal_api_throttled_total", scope="api_anonymous") == 1


@pytest.mark.parametrize("authorization", ["Api-Key not.a-real-key", "Token not-a-real-token", None])
def test_guessing_credentials_is_limited_per_client_address(settings: Any, authorization: str | None) -> None:
    settings.API_REFUSED_PER_ADDRESS = 3
    client = HttpsApiClient()
    url = (
        reverse("api:program_cards")
        if authorization and authorization.startswith("Api-Key")
        else reverse("api:my_cards")
    )
    headers = {"Authorization": authorization} if authorization else {}
    statuses = [client.get(url, headers=headers).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert AuditEvent.objects.filter(action="api.rate_limited", detail="refused credentials").exists()
