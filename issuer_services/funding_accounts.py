"""The funding account MDES encrypts to the portal: opened with the portal's own key (Mastercard's field-level
encryption library, `decrypt_payload`), then matched to a card by the vault's keyed fingerprint.

The key is ISSUER_SERVICES_DECRYPTION_KEY_PATH: a PKCS#12 file whose password is ISSUER_SERVICES_DECRYPTION_KEY_
PASSWORD, or an unencrypted PEM key without one. It is loaded once per process. `publicKeyFingerprint` must name
it (SHA-256 or SHA-1, of the certificate or of the public key, in hex): a payload for another key is refused
before anything is decrypted. The clear card number lives only inside this module's call and the fingerprint.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from client_encryption.encryption_exception import EncryptionError, PrivateKeyError  # type: ignore[import-untyped]
from client_encryption.field_level_encryption import decrypt_payload  # type: ignore[import-untyped]
from client_encryption.field_level_encryption_config import FieldLevelEncryptionConfig  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.utils import timezone

from cardholders import vault
from cardholders.models import Card
from issuer_services.wire import ErrorCode, IssuerServiceError, text, timestamp

logger = logging.getLogger(__name__)

_PATHS = {"$": {"toEncrypt": {}, "toDecrypt": {"encryptedPayload": "encryptedPayload.encryptedData"}}}


class DecryptionKeyError(Exception):
    """The portal's decryption key is not configured or cannot be loaded."""


@dataclass(frozen=True)
class _Key:
    config: FieldLevelEncryptionConfig
    fingerprints: frozenset[str]


@cache
def _key(path: str, password: str) -> _Key:
    if not path:
        raise DecryptionKeyError("ISSUER_SERVICES_DECRYPTION_KEY_PATH is not set")
    try:
        raw = Path(path).read_bytes()
        if password:
            key, certificate, _ = pkcs12.load_key_and_certificates(raw, password.encode())
        else:
            key, certificate = serialization.load_pem_private_key(raw, password=None), None
        config = FieldLevelEncryptionConfig(
            {
                "paths": _PATHS,
                "ivFieldName": "iv",
                "encryptedKeyFieldName": "encryptedKey",
                "encryptedValueFieldName": "encryptedData",
                "dataEncoding": "hex",
                "oaepPaddingDigestAlgorithm": "SHA-512",
                "oaepPaddingDigestAlgorithmFieldName": "oaepHashingAlgorithm",
                "encryptionCertificateFingerprintFieldName": "publicKeyFingerprint",
                "decryptionKey": path,
                **({"decryptionKeyPassword": password} if password else {}),
            }
        )
    except (OSError, ValueError, TypeError, PrivateKeyError) as exc:
        raise DecryptionKeyError(f"The issuer services decryption key cannot be loaded: {type(exc).__name__}") from exc
    if key is None:
        raise DecryptionKeyError("The issuer services key file holds no private key")
    encodings = [
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ]
    if isinstance(certificate, x509.Certificate):
        encodings.append(certificate.public_bytes(serialization.Encoding.DER))
    fingerprints = {digest(der).hexdigest() for der in encodings for digest in (hashlib.sha256, hashlib.sha1)}
    return _Key(config=config, fingerprints=frozenset(fingerprints))


def decryption_key_check() -> None:
    """Load the configured key (raises DecryptionKeyError), for the system check and readiness."""
    _key(settings.ISSUER_SERVICES_DECRYPTION_KEY_PATH, settings.ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD)


@dataclass(frozen=True)
class FundingAccount:
    """The opened payload, as far as the decision needs it: the card it names (None: not one of ours)."""

    card: Card | None
    source: str
    expiry_matches: bool
    security_code_given: bool
    account_suffix: str = field(default="")


def _clear_payload(envelope: dict[str, Any]) -> dict[str, Any]:
    try:
        key = _key(settings.ISSUER_SERVICES_DECRYPTION_KEY_PATH, settings.ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD)
    except DecryptionKeyError as exc:
        logger.error("Issuer services cannot decrypt: %s", exc)
        raise IssuerServiceError(
            ErrorCode.SERVICE_UNAVAILABLE, "The issuer cannot decrypt funding accounts at the moment", status=503
        ) from exc
    fingerprint = str(envelope.get("publicKeyFingerprint", "")).lower()
    if fingerprint not in key.fingerprints:
        raise IssuerServiceError(ErrorCode.CRYPTOGRAPHY_ERROR, "publicKeyFingerprint names no key of this issuer")
    try:
        # W2: "If not present, an IV of zero is assumed" (Mastercard's library needs it spelled out).
        opened = decrypt_payload({"encryptedPayload": {"iv": "00" * 16, **envelope}}, key.config)
    except (EncryptionError, ValueError, TypeError) as exc:
        raise IssuerServiceError(ErrorCode.CRYPTOGRAPHY_ERROR, "The encrypted payload cannot be decrypted") from exc
    clear = opened.get("encryptedPayload", {}).get("encryptedData") if isinstance(opened, dict) else None
    if not isinstance(clear, dict):
        raise IssuerServiceError(ErrorCode.CRYPTOGRAPHY_ERROR, "The encrypted payload holds no funding account data")
    return clear


def _expiry_matches(card: Card, data: dict[str, Any]) -> bool:
    month, year = data.get("expiryMonth"), data.get("expiryYear")
    if month is None and year is None:
        return True  # "May be omitted if the card does not have an expiry date"; the card's own then stands
    return month == f"{card.expiry_month:02d}" and year == f"{card.expiry_year % 100:02d}"


def funding_account_open(envelope: dict[str, Any]) -> FundingAccount:
    """Decrypt `fundingAccountInfo.encryptedPayload` and find its card. Raises IssuerServiceError for a payload
    this portal cannot or must not read (another key, altered, expired, no card account data)."""
    clear = _clear_payload(envelope)
    path = "encryptedData."
    valid_until = text(clear, "dataValidUntilTimestamp", min_length=20, max_length=29, required=False, path=path)
    if valid_until:
        moment = timestamp(valid_until)
        if moment is None:
            raise IssuerServiceError(
                ErrorCode.INVALID_FIELD_FORMAT, f"Invalid field format - {path}dataValidUntilTimestamp"
            )
        if moment <= timezone.now():
            raise IssuerServiceError(ErrorCode.INVALID_FIELD_VALUE, "The encrypted data is no longer valid")
    account = clear.get("cardAccountData")
    if not isinstance(account, dict):
        raise IssuerServiceError(ErrorCode.MISSING_REQUIRED_FIELD, f"Missing required field - {path}cardAccountData")
    number = text(account, "accountNumber", min_length=9, max_length=19, path=f"{path}cardAccountData.")
    card = Card.objects.select_related("cardholder__user").filter(number_fingerprint=vault.fingerprint(number)).first()
    return FundingAccount(
        card=card,
        source=text(clear, "source", max_length=32, required=False, path=path),
        expiry_matches=card is not None and _expiry_matches(card, account),
        security_code_given=isinstance(account.get("securityCode"), str),
        account_suffix=number[-4:],
    )
