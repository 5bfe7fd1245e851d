"""Property-based fuzzing of the whole API against its checked-in OpenAPI description (schemathesis).

Every operation gets generated requests, valid and invalid, with real credentials (a cardholder's app token, a
program manager's key), and about half of the ids in them replaced by real ones so that the services run (pushes
reach the sandbox MDES). No answer may be a server error, and every answer must match the description: a
documented status, a documented content type, a body of the documented shape.
"""

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.idempotency import HEADER, KEY_PATTERN
from api.schema import CHECKED_IN
from cardholders.models import Card, Cardholder, Program
from landing.services import landing_link_mint
from tests import factories
from tests.api.conftest import DEMOPAY, HttpsApiClient

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_path(CHECKED_IN)
_KEYS = itertools.count()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass(frozen=True)
class World:
    token: str
    api_key: str
    card: str
    gift_card: str
    link: str
    push: str

    def authorization(self, path: str) -> str:
        if path.startswith("/api/v1/program/"):
            return f"Api-Key {self.api_key}"
        return f"Token {self.token}"

    def real_ids(self, case: Any) -> None:
        """Replace about half of the generated ids by real ones (decided by the generated value itself), and give
        each request its own Idempotency-Key (generated ones repeat, and a repeat is answered from the record)."""
        headers = case.headers or {}
        if re.match(KEY_PATTERN, str(headers.get(HEADER, ""))):
            headers[HEADER] = f"fuzz-{next(_KEYS)}"
        ids = {"card_id": self.gift_card, "link_id": self.link, "push_id": self.push}
        for name, real in ids.items():
            value = (case.path_parameters or {}).get(name)
            if isinstance(value, str) and value[:1] in "01234567":
                case.path_parameters[name] = real
        query = case.query or {}
        if isinstance(query.get("card"), list) and str(query["card"])[:3] < "['8":
            query["card"] = [self.card]
        if isinstance(query.get("card"), str) and query["card"][:1] in "01234567":
            query["card"] = self.gift_card
        body = case.body
        if isinstance(body, dict):
            if isinstance(body.get("cards"), list) and str(body["cards"])[:3] < "['8":
                body["cards"] = [self.card]
                body["token_requestor"] = DEMOPAY
            if isinstance(body.get("card"), str) and body["card"][:1] in "01234567":
                body.update(card=self.gift_card, recipient_phone="", recipient_email="recipient@example.test")


@pytest.fixture
def world(
    settings: Any,
    requestors: Any,
    cardholder: Cardholder,
    card: Card,
    gift_card: Card,
    program: Program,
    issue_token: Callable[[Cardholder], str],
) -> World:
    from api.models import ProgramApiKey

    # The limits are tested on their own (test_throttling); here they would stop the fuzz reaching the services.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_credential": "10000/min", "api_anonymous": "10000/min"},
    }
    settings.API_WRITE_RATE_LIMITS = {
        action: {**limit, "per_credential": 10_000, "per_address": 10_000}
        for action, limit in settings.API_WRITE_RATE_LIMITS.items()
    }
    token = issue_token(cardholder)
    _, api_key = ProgramApiKey.objects.create_key(name="fuzz", program=program)
    link = landing_link_mint(card=gift_card, purpose="gift", recipient_email="recipient@example.test").link
    app = HttpsApiClient()
    app.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    started = app.post(
        "/api/v1/me/pushes/",
        {"cards": [str(card.public_id)], "token_requestor": DEMOPAY, "platform": "WEB"},
        format="json",
        headers={"Idempotency-Key": "fuzz-world"},
    )
    assert started.status_code == 201
    factories.make_card(program=program, card_number=factories.TEST_CARD_NUMBERS[3])  # a second program card
    return World(
        token=token,
        api_key=api_key,
        card=str(card.public_id),
        gift_card=str(gift_card.public_id),
        link=str(link.public_id),
        push=started.json()["id"],
    )


@pytest.fixture
def wsgi_app(world: World) -> Iterator[Any]:
    """The portal's WSGI application. Its handler closes database connections after each request; the test's
    transaction must survive that, as Django's own test client arranges it (which is why this comes after
    `world`: the test client reconnects the signals after each of its requests)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is reproducible, not flaky
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail_or_break_its_description(case: Any, world: World, wsgi_app: Any) -> None:
    world.real_ids(case)
    case.call_and_validate(
        app=wsgi_app,
        base_url="https://localhost",
        headers={"Authorization": world.authorization(case.path)},
        checks=CHECKS,
    )
