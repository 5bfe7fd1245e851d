"""Liveness and readiness: /healthz asks nothing; /readyz answers 503 while a dependency is down, and says which
only to staff or loopback callers."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from provisioning.checks import network_keys_loadable
from provisioning.mdes.errors import MdesConfigurationError

PUBLIC_ADDRESS = "203.0.113.7"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"  # Debian's redis-server package
# The checks run in threads of their own, with connections of their own, so they see only committed rows: the
# HTTP tests run without a network configuration (nothing to load), the key check is called directly.
pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own (Debian's binary), never the shared one: stopping it is the point."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Any) -> Iterator[RedisServer]:
    server = RedisServer(str(tmp_path))
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


def test_liveness_asks_no_dependency(client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_lists_each_check_to_a_loopback_caller(client) -> None:
    response = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "cache", "broker", "migrations", "network_keys"}
    assert all(check["ok"] for check in checks.values())
    assert checks["migrations"]["detail"] == "applied"


def test_readiness_tells_the_public_only_the_verdict(client, own_redis) -> None:
    own_redis.stop()
    with override_settings(CELERY_BROKER_URL=own_redis.url):
        response = client.get("/readyz", REMOTE_ADDR=PUBLIC_ADDRESS)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_network_keys_check_loads_the_active_configurations_keys(sandbox_network_config) -> None:
    assert network_keys_loadable() == "loadable"


def test_the_network_keys_check_fails_while_they_cannot_be_loaded(sandbox_network_config, monkeypatch) -> None:
    monkeypatch.delenv(sandbox_network_config.signing_key_password_env)
    with pytest.raises(MdesConfigurationError, match=sandbox_network_config.signing_key_password_env):
        network_keys_loadable()


def test_readiness_shows_details_to_signed_in_staff(client, staff_user) -> None:
    client.force_login(staff_user)
    assert "checks" in client.get("/readyz", REMOTE_ADDR=PUBLIC_ADDRESS).json()


def test_readiness_fails_while_redis_is_down_and_recovers_when_it_returns(client, own_redis) -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": own_redis.url}}
    with override_settings(CACHES=caches, CELERY_BROKER_URL=own_redis.url):
        assert client.get("/readyz").status_code == 200

        own_redis.stop()
        started = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - started < 5  # each check has its own short deadline
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["cache"]["ok"] is False
        assert checks["broker"]["ok"] is False
        assert "ConnectionError" in checks["broker"]["detail"]
        assert checks["database"]["ok"] is True

        own_redis.start()
        assert client.get("/readyz").status_code == 200


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="a worker needs a broker (set REDIS_URL)")
def test_worker_health_fails_without_an_answering_worker() -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="did not answer"):
        call_command("worker_health", "--destination", "celery@nobody", "--timeout", "0.5")
