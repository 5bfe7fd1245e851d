"""Property-based fuzzing of the whole API against its checked-in OpenAPI description (schemathesis).

Every operation gets generated requests, valid and invalid, with real credentials (a cardholder's app token, a
program manager's key), and about half of the ids in them replaced by real ones so that the services run (pushes
reach the sandbox MDES). No answer may be a server error, and every answer must match the description: a
documented status, a documented content type, a body of the documented shape.
"""

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
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
from provisioning.models import CardToken, LogoAsset
from provisioning.tokens import card_tokens_refresh
from tests import factories
from tests.api.conftest import DEMOPAY, HttpsApiClient
from tests.fixtures.sandbox_server import SandboxServer

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
    card_token: str

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
        # A card id names one of the program's cards under /program/, one of the cardholder's under /me/.
        card_id = self.card if case.path.startswith("/api/v1/me/") else self.gift_card
        ids = {"card_id": card_id, "link_id": self.link, "push_id": self.push, "token_id": self.card_token}
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
    sandbox: SandboxServer,
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
    factories.CardFactory.create(program=program, card_number=factories.TEST_CARD_NUMBERS[3])  # a second program card
    sandbox.create_token(accountNumber=factories.TEST_CARD_NUMBERS[0], tokenRequestorId=DEMOPAY)  # the card in DemoPay
    card_tokens_refresh(card)
    return World(
        token=token,
        api_key=api_key,
        card=str(card.public_id),
        gift_card=str(gift_card.public_id),
        link=str(link.public_id),
        push=started.json()["id"],
        card_token=str(CardToken.objects.get(card=card).public_id),
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


# --- Malformed input to every endpoint, API or not --------------------------------------------------------------------

DEEP, OVERSIZE, WRONG_TYPE, NUL, OVERLONG, TOO_MANY = (
    "deep nesting",
    "oversize body",
    "wrong JSON top-level type",
    "NUL bytes",
    "overlong values",
    "too many parameters",
)
# Names the portal's pages, filters and endpoints read, so that a malformed value reaches the code that reads it.
PARAMETER_NAMES = ["state", "q", "o", "p", "e", "card", "platform", "next", "limit", "offset", "results[x]", "code"]
FIELD_NAMES = ["card", "cards", "token_requestor", "purpose", "results", "receipt", "csp-report", "action", "code"]


@dataclass(frozen=True)
class Malformed:
    """One malformed request: query parameters, and a body with its content type (or none)."""

    query: list[tuple[str, str]]
    body: bytes | None = None
    content_type: str = "application/json"

    def __repr__(self) -> str:  # short: the values themselves may be megabytes
        query, body = urlencode(self.query), self.body or b""
        return f"Malformed(query={query[:80]!r}… ({len(query)}), body={body[:80]!r}… ({len(body)}))"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _deep(depth: int, kind: str, name: str) -> bytes:
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return f'{{"{name}": {opening * depth}1{closing * depth}}}'.encode()


_names = st.sampled_from(PARAMETER_NAMES)
_fields = st.sampled_from(FIELD_NAMES)
_nul_text = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=5), st.text(max_size=5))
MALFORMED = {
    DEEP: st.builds(
        lambda depth, kind, name: Malformed([], _deep(depth, kind, name)),
        st.integers(min_value=1_000, max_value=100_000),
        st.sampled_from(["list", "object"]),
        _fields,
    ),
    OVERSIZE: st.builds(
        lambda size, content_type: Malformed(
            [], b'{"a": "' + b"x" * size + b'"}' if "json" in content_type else b"a=" + b"x" * size, content_type
        ),
        st.integers(min_value=256 * 1024, max_value=5 * 1024 * 1024),
        st.sampled_from(["application/json", "application/x-www-form-urlencoded"]),
    ),
    WRONG_TYPE: st.builds(
        lambda value: Malformed([], _json(value)),
        st.one_of(st.text(max_size=20), st.integers(), st.lists(st.integers(), max_size=3), st.none(), st.booleans()),
    ),
    NUL: st.builds(
        lambda name, text, field, in_key, form: Malformed(
            [(f"{name}{text}", "1") if in_key else (name, text)],
            urlencode({field: text}).encode() if form else _json({field: text, "cards": [text]}),
            "application/x-www-form-urlencoded" if form else "application/json",
        ),
        _names,
        _nul_text,
        _fields,
        st.booleans(),
        st.booleans(),
    ),
    OVERLONG: st.builds(
        lambda name, size, field, form: Malformed(
            [(name, "9" * size), (f"results[{'R' * size}]", "APPROVED")],
            urlencode({field: "9" * size}).encode() if form else _json({field: "9" * size, "cards": ["9" * size]}),
            "application/x-www-form-urlencoded" if form else "application/json",
        ),
        _names,
        st.integers(min_value=1_000, max_value=60_000),
        _fields,
        st.booleans(),
    ),
    TOO_MANY: st.builds(
        lambda count, name: Malformed(
            [(f"{name}{i}", "1") for i in range(count)],
            urlencode([(f"f{i}", "1") for i in range(count)]).encode(),
            "application/x-www-form-urlencoded",
        ),
        st.integers(min_value=1_001, max_value=3_000),
        _names,
    ),
}


@dataclass(frozen=True)
class Site:
    """Every address of the portal with real ids, and a client that may reach each (signed in where needed)."""

    endpoints: list[str]
    clients: dict[str, Client]

    def client_for(self, path: str) -> Client:
        for prefix in ("/admin/", "/api/v1/program/", "/api/"):
            if path.startswith(prefix):
                return self.clients[prefix]
        return self.clients["/"]


def _addresses(patterns: list[Any], values: dict[str, str], prefix: str = "") -> Iterator[str]:
    """The URLconf's addresses (outside the admin), each with its parameters filled in from `values`."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                yield from _addresses(pattern.url_patterns, values, namespace)
            continue
        if pattern.name is None:
            continue
        names = pattern.pattern.regex.groupindex
        kwargs = {name: values.get(f"{prefix}{name}", values.get(name, "")) for name in names}
        yield reverse(f"{prefix}{pattern.name}", kwargs=kwargs)


@pytest.fixture
def site(world: World, gift_card: Card, cardholder: Cardholder, staff_user_with_totp: Any) -> Site:
    from django.contrib import admin

    from tests.api.conftest import step_up_by_email
    from tests.issuer_portal.helpers import staff_client

    minted = landing_link_mint(card=gift_card, purpose="gift", recipient_email="recipient@example.test")
    browser = HttpsApiClient(raise_request_exception=False)
    browser.force_login(cardholder.user)
    step_up_by_email(browser)
    browser.get(urlsplit(minted.url).path)  # the same browser also holds the landing link
    staff = staff_client(staff_user_with_totp)
    staff.raise_request_exception = False
    app = HttpsApiClient(raise_request_exception=False)
    app.credentials(HTTP_AUTHORIZATION=world.authorization("/api/v1/me/"))
    manager = HttpsApiClient(raise_request_exception=False)
    manager.credentials(HTTP_AUTHORIZATION=world.authorization("/api/v1/program/"))
    logo = LogoAsset.objects.first()
    values = {
        "provisioning:public_id": world.push,
        "landing:public_id": str(minted.link.public_id),
        "landing:token": urlsplit(minted.url).path.rstrip("/").rsplit("/", 1)[-1],
        "push_id": world.push,
        "card_id": world.gift_card,
        "link_id": world.link,  # the API may revoke that one; the browser's link stays open
        "token_id": world.card_token,
        "asset_id": logo.asset_id if logo else "none",
        "image_format": "svg",
        "token": "t" * 32,
        "link_token": "l" * 32,  # a "Was this you?" link that does not exist
        "wallet_requests:public_id": "5b0f6c3e-0000-4000-8000-000000000001",  # a wallet request that does not exist
        "request_id": "5b0f6c3e-0000-4000-8000-000000000001",
        "key": "k" * 20,
        "uidb36": "1",
        "path": "landing-art/none.png",  # a media file that does not exist
    }
    sign_out = reverse("account_logout")  # last: a POST there signs the browser out
    endpoints = sorted(_addresses(get_resolver().url_patterns, values), key=lambda path: path == sign_out)
    endpoints[-1:-1] = ["/api/v2/anything/", "/favicon.ico"] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    return Site(endpoints, {"/": browser, "/admin/": staff, "/api/v1/program/": manager, "/api/": app})


def _send(client: Client, method: str, path: str, request: Malformed) -> Any:
    url = f"{path}?{urlencode(request.query)}" if request.query else path
    if method == "GET":
        return client.get(url)
    return client.generic("POST", url, request.body or b"", content_type=request.content_type)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo"])
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_no_malformed_request_makes_any_endpoint_fail(kind: str, debug: bool, site: Site, settings: Any) -> None:
    """Each class of malformed input, sent to every address of the portal (API, pages, callback, landing, CSP
    report, admin changelists), is refused or ignored: never a server error; under /api/ always a problem."""
    settings.DEBUG = debug

    @given(request=MALFORMED[kind])
    @hypothesis_settings(
        max_examples=2, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
    )
    def check(request: Malformed) -> None:
        for path in site.endpoints:
            for method in ("GET", "POST"):
                response = _send(site.client_for(path), method, path, request)
                assert response.status_code < 500, (kind, method, path, response.status_code)
                if path.startswith("/api/") and response.status_code >= 400:
                    assert response["Content-Type"] == "application/problem+json", (kind, method, path)
                if kind == OVERSIZE and method == "POST":
                    assert response.status_code == 413, (method, path)

    check()
