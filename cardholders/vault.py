"""The card vault: card numbers sealed at rest with AES-256-GCM under a versioned, rotatable key.

- Keys come from settings (CARD_VAULT_KEYS, from the environment): "key-id:base64(32 bytes)", several allowed
  so that old ciphertexts stay readable during a rotation; CARD_VAULT_ACTIVE_KEY_ID seals new numbers.
- Each ciphertext is bound (as AES-GCM associated data) to its key id and to the card number's fingerprint,
  so a ciphertext moved to another row or re-labelled with another key id fails to open.
- The fingerprint is an HMAC-SHA-256 of the whole number under its own key (PCI DSS 3.5.1.1), for look-ups.
- The clear number leaves this module in exactly one place: `card_account_data`, which builds the
  `cardAccountData` of the MDES funding-account payload and is handed straight to payload encryption.
"""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.card_numbers import is_card_number

if TYPE_CHECKING:
    from cardholders.models import Card

_NONCE_BYTES = 12


class VaultError(Exception):
    """A sealed card number could not be opened (unknown key id, or the ciphertext was altered)."""


class InvalidCardNumberError(ValueError):
    """The input is not a 13-19 digit number passing the Luhn check."""


@dataclass(frozen=True)
class SealedCardNumber:
    ciphertext: bytes
    key_id: str
    fingerprint: str
    first_six: str
    last_four: str


@dataclass(frozen=True)
class _Keyring:
    keys: dict[str, bytes]
    active_key_id: str
    fingerprint_key: bytes


@cache
def _keyring_from(entries: tuple[str, ...], active: str, fingerprint_key: str) -> _Keyring:
    keys: dict[str, bytes] = {}
    for entry in entries:
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("CARD_VAULT_KEYS entries must look like 'key-id:base64-key'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ImproperlyConfigured(f"CARD_VAULT_KEYS entry {key_id!r} is not valid base64") from exc
        if len(key) != 32:
            raise ImproperlyConfigured(f"CARD_VAULT_KEYS entry {key_id!r} must decode to 32 bytes (AES-256)")
        keys[key_id] = key
    if active not in keys:
        raise ImproperlyConfigured("CARD_VAULT_ACTIVE_KEY_ID must name one of the CARD_VAULT_KEYS")
    try:
        fp_key = base64.b64decode(fingerprint_key, validate=True)
    except binascii.Error as exc:
        raise ImproperlyConfigured("CARD_VAULT_FINGERPRINT_KEY is not valid base64") from exc
    if len(fp_key) < 32:
        raise ImproperlyConfigured("CARD_VAULT_FINGERPRINT_KEY must decode to at least 32 bytes")
    return _Keyring(keys=keys, active_key_id=active, fingerprint_key=fp_key)


def _keyring() -> _Keyring:
    return _keyring_from(
        tuple(settings.CARD_VAULT_KEYS), settings.CARD_VAULT_ACTIVE_KEY_ID, settings.CARD_VAULT_FINGERPRINT_KEY
    )


def active_key_id() -> str:
    return _keyring().active_key_id


def _associated_data(key_id: str, fingerprint: str) -> bytes:
    return f"card-number/v1/{key_id}/{fingerprint}".encode()


def fingerprint(card_number: str) -> str:
    """Keyed hash of the whole card number, the only form in which it may be searched for."""
    return hmac.new(_keyring().fingerprint_key, card_number.encode(), hashlib.sha256).hexdigest()


def _encrypt(card_number: str, key_id: str, number_fingerprint: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_keyring().keys[key_id]).encrypt(
        nonce, card_number.encode(), _associated_data(key_id, number_fingerprint)
    )
    return nonce + sealed


def _decrypt(ciphertext: bytes, key_id: str, number_fingerprint: str) -> str:
    key = _keyring().keys.get(key_id)
    if key is None:
        raise VaultError(f"No vault key with id {key_id!r} is configured")
    data = bytes(ciphertext)
    try:
        clear = AESGCM(key).decrypt(
            data[:_NONCE_BYTES], data[_NONCE_BYTES:], _associated_data(key_id, number_fingerprint)
        )
    except InvalidTag as exc:
        raise VaultError("The sealed card number failed its integrity check") from exc
    return clear.decode()


def seal(card_number: str) -> SealedCardNumber:
    """Seal a card number under the active key. The caller keeps only the returned value."""
    digits = card_number.replace(" ", "").replace("-", "")
    if not is_card_number(digits):
        raise InvalidCardNumberError("A card number has 13 to 19 digits and passes the Luhn check")
    key_id = active_key_id()
    number_fingerprint = fingerprint(digits)
    return SealedCardNumber(
        ciphertext=_encrypt(digits, key_id, number_fingerprint),
        key_id=key_id,
        fingerprint=number_fingerprint,
        first_six=digits[:6],
        last_four=digits[-4:],
    )


def reseal(card: "Card") -> bool:
    """Re-encrypt a card's number under the active key (in memory; the caller saves). False if already so."""
    target = active_key_id()
    if card.number_key_id == target:
        return False
    clear = _decrypt(card.number_ciphertext, card.number_key_id, card.number_fingerprint)
    card.number_ciphertext = _encrypt(clear, target, card.number_fingerprint)
    card.number_key_id = target
    return True


def card_account_data(card: "Card") -> dict[str, str]:
    """The `cardAccountData` object of an MDES funding account, for payload encryption and nothing else.

    This is the only function that returns a clear card number. Its result must go straight into the
    encrypted payload; it must never be logged, stored, rendered or passed to a task.
    """
    return {
        "accountNumber": _decrypt(card.number_ciphertext, card.number_key_id, card.number_fingerprint),
        "expiryMonth": f"{card.expiry_month:02d}",
        "expiryYear": f"{card.expiry_year % 100:02d}",
    }
