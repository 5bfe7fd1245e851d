"""Building the client from the portal's NetworkConfiguration, and the system checks that guard it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from provisioning.checks import check_network_configuration
from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesConfigurationError
from provisioning.mdes.hosts import is_local_sandbox_host
from provisioning.models import NetworkConfiguration
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


# --- the MDES host allow-list (G6) --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("environment", "base_url"),
    [
        ("production", "https://api.mastercard.com/mdes"),
        ("mtf", "https://api.mastercard.com/mdes/mtf"),
        ("mtf", "https://sandbox.api.mastercard.com/mdes/mtf"),
        ("sandbox", "https://sandbox.api.mastercard.com/mdes"),
        ("sandbox", "https://SANDBOX.api.mastercard.com./mdes"),
        ("sandbox", "http://127.0.0.1:8001/mdes"),
        ("sandbox", "http://localhost:8001/mdes"),
        ("sandbox", "https://[::1]:8443/mdes"),
    ],
)
def test_a_host_allowed_for_the_environment_builds_a_client(
    sandbox_configuration: NetworkConfiguration, environment: str, base_url: str
) -> None:
    sandbox_configuration.environment, sandbox_configuration.base_url = environment, base_url
    assert TokenConnectClient.from_configuration(sandbox_configuration)


@pytest.mark.parametrize(
    ("environment", "base_url", "message"),
    [
        ("production", "https://evil.test/mdes", "'evil.test' is not allowed for the production environment"),
        ("production", "https://sandbox.api.mastercard.com/mdes", "not allowed for the production environment"),
        ("sandbox", "https://api.mastercard.com/mdes", "not allowed for the sandbox environment"),
        ("production", "https://api.mastercard.com.evil.test/mdes", "not allowed"),
        ("production", "https://api.mastercard.com@evil.test/mdes", "without credentials"),
        ("production", "https://user:pw@api.mastercard.com/mdes", "without credentials"),  # pragma: allowlist secret
        ("production", "http://api.mastercard.com/mdes", "must use https"),
        ("production", "ftp://api.mastercard.com/mdes", "must be https://host/path"),
        ("production", "https://api.mastercard.com/mdes?x=1", "without query"),
        # A local sandbox is only ever for configurations of the sandbox environment.
        ("mtf", "http://127.0.0.1:8001/mdes", "'127.0.0.1' is not allowed for the mtf environment"),
        ("production", "https://localhost/mdes", "not allowed for the production environment"),
        # Not loopback, whatever its name says.
        ("sandbox", "http://sandbox:8001/mdes", "'sandbox' is not allowed"),
        ("sandbox", "http://10.0.0.8:8001/mdes", "not allowed"),
    ],
)
def test_a_host_not_allowed_for_the_environment_is_refused(
    sandbox_configuration: NetworkConfiguration, environment: str, base_url: str, message: str
) -> None:
    sandbox_configuration.environment, sandbox_configuration.base_url = environment, base_url
    with pytest.raises(MdesConfigurationError, match=message):
        TokenConnectClient.from_configuration(sandbox_configuration)


def test_the_allow_list_comes_from_the_settings(sandbox_configuration: NetworkConfiguration) -> None:
    sandbox_configuration.environment = "production"
    sandbox_configuration.base_url = "https://mdes.issuer-proxy.test/mdes"
    with pytest.raises(MdesConfigurationError, match="not allowed"):
        TokenConnectClient.from_configuration(sandbox_configuration)
    with override_settings(MDES_ALLOWED_HOSTS={"production": ["MDES.issuer-proxy.test"]}):
        assert TokenConnectClient.from_configuration(sandbox_configuration)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8001/mdes", "https://localhost/mdes"])
def test_a_local_sandbox_needs_mdes_allow_local_sandbox(
    sandbox_configuration: NetworkConfiguration, base_url: str
) -> None:
    sandbox_configuration.base_url = base_url
    with (
        override_settings(MDES_ALLOW_LOCAL_SANDBOX=False),
        pytest.raises(MdesConfigurationError, match="MDES_ALLOW_LOCAL_SANDBOX is off"),
    ):
        TokenConnectClient.from_configuration(sandbox_configuration)


# --- system checks -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("portal.localhost", True),
        ("127.0.0.2", True),
        ("sandbox", False),  # a bare name may resolve anywhere through the search domains
        ("localhost.evil.test", False),
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
def test_a_local_sandbox_is_refused_without_mdes_allow_local_sandbox(
    sandbox_network_config: NetworkConfiguration,
) -> None:
    with override_settings(DEBUG=True, MDES_ALLOW_LOCAL_SANDBOX=False):
        (message,) = check_network_configuration()
    assert message.id == "provisioning.E006"
    assert "MDES_ALLOW_LOCAL_SANDBOX" in message.msg


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("environment", "base_url", "expected"),
    [
        ("production", "https://api.mastercard.com/mdes", []),
        ("mtf", "https://sandbox.api.mastercard.com/mdes/mtf", []),
        ("production", "https://evil.test/mdes", ["provisioning.E005"]),
        ("production", "https://sandbox.api.mastercard.com/mdes", ["provisioning.E005"]),
        ("mtf", "http://127.0.0.1:8001/mdes", ["provisioning.E005"]),  # local sandbox outside the sandbox environment
        ("production", "http://api.mastercard.com/mdes", ["provisioning.E007"]),
    ],
)
def test_the_base_url_host_must_be_allowed_for_the_environment(
    sandbox_network_config: NetworkConfiguration, environment: str, base_url: str, expected: list[str]
) -> None:
    sandbox_network_config.environment, sandbox_network_config.base_url = environment, base_url
    sandbox_network_config.save()
    with override_settings(DEBUG=True):
        assert _ids(check_network_configuration()) == expected


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
