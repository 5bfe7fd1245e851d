"""`manage.py check`: issuer services that are on must be able to read MDES's payloads and check its calls."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from issuer_services.activation_methods import MAX_VALUE_LENGTH, approval_url
from issuer_services.authentication import verification_keys
from issuer_services.funding_accounts import DecryptionKeyError, decryption_key_check


@register()
def issuer_services_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.ISSUER_SERVICES_ENABLED:
        return []
    problems: list[CheckMessage] = []
    try:
        decryption_key_check()
    except DecryptionKeyError as exc:
        problems.append(
            Error(str(exc), hint="Set ISSUER_SERVICES_DECRYPTION_KEY_PATH (and _PASSWORD).", id="issuer_services.E001")
        )
    mechanisms = settings.ISSUER_SERVICES_AUTHENTICATION
    if "signature" in mechanisms:
        try:
            if not verification_keys():
                problems.append(
                    Error(
                        "No key to check MDES's signatures with",
                        hint="Set ISSUER_SERVICES_SIGNATURE_KEY_PATHS.",
                        id="issuer_services.E002",
                    )
                )
        except (OSError, ValueError) as exc:
            problems.append(Error(f"A signature key cannot be read: {exc}", id="issuer_services.E003"))
    if "mtls" in mechanisms and not (settings.ISSUER_SERVICES_CLIENT_IDENTITIES and settings.AXES_IPWARE_PROXY_COUNT):
        problems.append(
            Error(
                "Mutual TLS needs the TLS proxy (DJANGO_TRUSTED_PROXY_COUNT) and MDES's identity",
                hint="Set ISSUER_SERVICES_CLIENT_IDENTITIES, or drop mtls from ISSUER_SERVICES_AUTHENTICATION.",
                id="issuer_services.E004",
            )
        )
    if len(approval_url()) > MAX_VALUE_LENGTH:
        problems.append(
            Warning(
                "The wallet requests page's address is longer than MDES takes (64 characters): "
                "CARDHOLDER_TO_VISIT_WEBSITE is not offered",
                id="issuer_services.W001",
            )
        )
    return problems
