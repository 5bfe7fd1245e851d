import io
import logging
from collections.abc import Callable, Iterator
from logging.config import dictConfig
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from celery.signals import before_task_publish
from django.conf import settings

from cardholders.models import Card, Cardholder
from provisioning.models import NetworkConfiguration
from tests import factories
from tests.https_client import HttpsClient
from users.models import User

pytest_plugins = ["tests.fixtures.sandbox_server", "tests.fixtures.issuer_services"]


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-django's live server, started over plain HTTP on loopback.

    SecurityMiddleware reads the HTTPS redirect and HSTS settings once, when the server builds its handler,
    so they are switched off just while it starts; the rest of the suite keeps the production values.
    """
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
def network_config(db: Any) -> NetworkConfiguration:
    return factories.NetworkConfigurationFactory.create()


@pytest.fixture
def cardholder(db: Any) -> Cardholder:
    return factories.CardholderFactory.create()


@pytest.fixture
def card(network_config: NetworkConfiguration, cardholder: Cardholder) -> Card:
    return factories.CardFactory.create(cardholder=cardholder)


@pytest.fixture
def staff_user(db: Any) -> User:
    return factories.StaffUserFactory.create()


@pytest.fixture
def totp_secret() -> str:
    return generate_totp_secret()


@pytest.fixture
def staff_user_with_totp(staff_user: User, totp_secret: str) -> User:
    TOTP.activate(staff_user, totp_secret)
    return staff_user


@pytest.fixture
def totp_code(totp_secret: str) -> Callable[[int], str]:
    """The authenticator app's code for the current time step (offset by `step` periods)."""
    import time

    def code(step: int = 0) -> str:
        return format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30 + step))

    return code


@pytest.fixture
def portal_log() -> Iterator[io.StringIO]:
    """What the portal's log handler writes (the production configuration: filter and JSON formatter)."""
    dictConfig(settings.LOGGING)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    yield stream
    dictConfig(settings.LOGGING)


@pytest.fixture
def client() -> HttpsClient:
    """A test client that speaks HTTPS, as every real visitor does (the portal redirects plain HTTP)."""
    return HttpsClient()


@pytest.fixture
def published() -> Iterator[list[object]]:
    """The bodies of every Celery message published while the test runs (check G7: ids only, no secrets)."""
    messages: list[object] = []

    def record(sender: object = None, body: object = None, **kwargs: object) -> None:
        messages.append(body)

    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters and other cached values never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
