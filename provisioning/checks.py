"""System checks for the MDES connection: the base URL's host allowed for its environment, no local sandbox outside
development, keys present and readable.

They read the active NetworkConfiguration from the database; before the tables exist (a fresh database, e.g.
`check --deploy` before `migrate`) there is nothing to check yet.

IDs: E001 local sandbox while DEBUG is off; E002 signing key unreadable; E003 its password variable unset;
E004 encryption certificate unreadable; E005 host not on MDES_ALLOWED_HOSTS for the environment; E006 local
sandbox while MDES_ALLOW_LOCAL_SANDBOX is off; E007 plain HTTP to a host that is not a local sandbox.
"""

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.hosts import BaseUrlProblem, base_url_refusal, is_local_sandbox_host
from provisioning.mdes.transport import configured_path
from provisioning.models import NetworkConfiguration
from provisioning.selectors import network_configuration_active

_BASE_URL_CHECKS = {
    BaseUrlProblem.HOST_NOT_ALLOWED: (
        "provisioning.E005",
        "Use Mastercard's host for this environment, or add the host to MDES_ALLOWED_HOSTS_<ENVIRONMENT>. "
        "A local sandbox is only for configurations of the sandbox environment.",
    ),
    BaseUrlProblem.LOCAL_SANDBOX_NOT_ALLOWED: (
        "provisioning.E006",
        "Set MDES_ALLOW_LOCAL_SANDBOX=1 in development, or use Mastercard's sandbox, MTF or production base URL.",
    ),
    BaseUrlProblem.PLAIN_HTTP: ("provisioning.E007", "Use an https:// base URL."),
}


def _base_url_messages(config: NetworkConfiguration) -> list[CheckMessage]:
    # A Customer Service base URL set apart from the Token Connect one is checked too (a derived one has its host).
    urls = [("", config.base_url)]
    if config.customer_service_base_url:
        urls.append(("Customer Service ", config.customer_service_base_url))
    messages: list[CheckMessage] = []
    for label, url in urls:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if is_local_sandbox_host(host) and not settings.DEBUG:
            messages.append(
                Error(
                    f"The active network configuration {config.name!r} points at a local sandbox ({host}) while "
                    f"DEBUG is off ({label}base URL).",
                    hint="Use Mastercard's sandbox, MTF or production base URL outside development.",
                    obj=config,
                    id="provisioning.E001",
                )
            )
            continue
        refusal = base_url_refusal(url, config.environment)
        if refusal is None:
            continue
        check_id, hint = _BASE_URL_CHECKS[refusal.problem]
        messages.append(
            Error(
                f"The active network configuration {config.name!r}: {label}{refusal.message}.",
                hint=hint,
                obj=config,
                id=check_id,
            )
        )
    return messages


def _unreadable(path: str) -> bool:
    return not (os.path.isfile(path) and os.access(path, os.R_OK))


def _signing_key_messages(config: NetworkConfiguration) -> list[CheckMessage]:
    path = configured_path(config.signing_key_path)
    if _unreadable(path):
        return [
            Error(
                f"The OAuth signing key {config.signing_key_path!r} is missing or unreadable.",
                obj=config,
                id="provisioning.E002",
            )
        ]
    password = os.environ.get(config.signing_key_password_env)
    if password is None:
        return [
            Error(
                f"The environment variable {config.signing_key_password_env} (signing key password) is not set.",
                obj=config,
                id="provisioning.E003",
            )
        ]
    try:
        with open(path, "rb") as handle:
            pkcs12.load_key_and_certificates(handle.read(), password.encode())
    except (OSError, ValueError):
        return [
            Error(
                f"The OAuth signing key {config.signing_key_path!r} cannot be opened with the password from "
                f"{config.signing_key_password_env}.",
                obj=config,
                id="provisioning.E002",
            )
        ]
    return []


def _encryption_certificate_messages(config: NetworkConfiguration) -> list[CheckMessage]:
    path = configured_path(config.encryption_certificate_path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if data.startswith(b"-----BEGIN"):
            x509.load_pem_x509_certificate(data)
        else:
            x509.load_der_x509_certificate(data)
    except (OSError, ValueError):
        return [
            Error(
                f"The MDES encryption certificate {path!r} is missing, unreadable or not a certificate.",
                obj=config,
                id="provisioning.E004",
            )
        ]
    return []


def check_network_configuration(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if app_configs is not None and not any(app.name == "provisioning" for app in app_configs):
        return []
    try:
        config = network_configuration_active()
    except DatabaseError:
        return []
    if config is None:
        return []
    return [
        *_base_url_messages(config),
        *_signing_key_messages(config),
        *_encryption_certificate_messages(config),
    ]


def network_keys_loadable() -> str:
    """Readiness: the active configuration's signing key and encryption certificate load (raises when not)."""
    config = network_configuration_active()
    if config is None:
        return "no active network configuration"
    TokenConnectClient.from_configuration(config)
    return "loadable"
