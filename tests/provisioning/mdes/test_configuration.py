"""Building the client from the portal's NetworkConfiguration, and the system checks that guard it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from issuer_portal.models import NetworkConfiguration
from provisioning.checks import check_network_configuration, is_local_sandbox_host
from provisioning.mdes.client import TokenConnectClient, get_token_connect_client
from provisioning.mdes.errors import MdesConfigurationError
from tests.fixtures.sandbox_server import SIGNING_PASSWORD_ENV

ROOT = Path(__file__).resolve().parents[3]


def test_the_password_comes_from_the_named_environment_variable(
    sandbox_configuration: NetworkConfiguration, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TokenConnectClient.from_configuration(sandbox_configuration).get_eligible_token_requestors(["555555555"])
    monkeypatch.delenv(SIGNING_PASSWORD_ENV)
    with pytest.raises(MdesConfigurationError, match=SIGNING_PASSWORD_ENV):
        TokenConnectClient.from_configuration(sandbox_configuration)


def test_a_wrong_password_or_missing_file(
    sandbox_configuration: NetworkConfiguration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIGNING_PASSWORD_ENV, "not-the-password")
    with pytest.raises(MdesConfigurationError, match="password"):
        TokenConnectClient.from_configuration(sandbox_configuration)
    sandbox_configuration.signing_key_path = "/nonexistent/key.p12"
    with pytest.raises(MdesConfigurationError, match="cannot be read"):
        TokenConnectClient.from_configuration(sandbox_configuration)


def test_a_missing_encryption_certificate(sandbox_configuration: NetworkConfiguration) -> None:
    sandbox_configuration.encryption_certificate_path = "/nonexistent/cert.pem"
    with pytest.raises(MdesConfigurationError, match="certificate"):
        TokenConnectClient.from_configuration(sandbox_configuration)


@pytest.mark.parametrize(
    "environment", [NetworkConfiguration.Environment.MTF, NetworkConfiguration.Environment.PRODUCTION]
)
def test_plain_http_is_only_for_the_sandbox_environment(
    sandbox_configuration: NetworkConfiguration, environment: str
) -> None:
    sandbox_configuration.environment = environment
    with pytest.raises(MdesConfigurationError, match="https"):
        TokenConnectClient.from_configuration(sandbox_configuration)


@pytest.mark.django_db
def test_without_an_active_configuration_there_is_no_client() -> None:
    with pytest.raises(MdesConfigurationError, match="No network configuration is active"):
        get_token_connect_client()


@pytest.mark.django_db
def test_the_active_configuration_builds_the_client(sandbox_network_config: NetworkConfiguration) -> None:
    found = get_token_connect_client().get_eligible_token_requestors(["555555555"])
    assert {tr.consumer_facing_entity_name for tr in found} >= {"DemoPay", "Sunday Store"}


# --- system checks -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("sandbox", True),
        ("portal.localhost", True),
        ("api.mastercard.com", False),
        ("sandbox.api.mastercard.com", False),
        ("10.0.0.8", False),
    ],
)
def test_local_sandbox_hosts(host: str, local: bool) -> None:
    assert is_local_sandbox_host(host) is local


def _ids(messages: list) -> list[str]:
    return sorted(message.id for message in messages)


@pytest.mark.django_db
def test_a_local_sandbox_is_refused_with_debug_off(sandbox_network_config: NetworkConfiguration) -> None:
    with override_settings(DEBUG=False):
        assert _ids(check_network_configuration()) == ["provisioning.E001"]
    with override_settings(DEBUG=True):
        assert check_network_configuration() == []


@pytest.mark.django_db
def test_missing_or_unreadable_keys_are_reported(
    sandbox_network_config: NetworkConfiguration, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with override_settings(DEBUG=True):
        assert check_network_configuration() == []
        monkeypatch.setenv(SIGNING_PASSWORD_ENV, "wrong")
        assert _ids(check_network_configuration()) == ["provisioning.E002"]
        monkeypatch.delenv(SIGNING_PASSWORD_ENV)
        assert _ids(check_network_configuration()) == ["provisioning.E003"]

        unreadable = tmp_path / "key.p12"
        unreadable.write_bytes(b"x")
        unreadable.chmod(0)
        not_a_certificate = tmp_path / "cert.pem"
        not_a_certificate.write_text("-----BEGIN CERTIFICATE-----\nnope\n")
        sandbox_network_config.signing_key_path = str(unreadable) if os.geteuid() else "/nonexistent/key.p12"
        sandbox_network_config.encryption_certificate_path = str(not_a_certificate)
        sandbox_network_config.save()
        assert _ids(check_network_configuration()) == ["provisioning.E002", "provisioning.E004"]


@pytest.mark.django_db
def test_the_check_is_registered(sandbox_network_config: NetworkConfiguration) -> None:
    with override_settings(DEBUG=False):
        assert "provisioning.E001" in _ids(run_checks())


def test_check_deploy_on_a_database_without_tables_does_not_crash(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "provisioning." not in result.stdout + result.stderr
