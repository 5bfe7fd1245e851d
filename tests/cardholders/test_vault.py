"""A4: card numbers at rest are AES-GCM ciphertexts under a versioned key, and only the vault opens them."""

import base64
import io
import secrets
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from cardholders import vault
from cardholders.models import Card

pytestmark = pytest.mark.django_db

CARD_NUMBER = "5555555555554444"


def _new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def test_sealed_number_opens_only_into_the_network_payload(card: Card) -> None:
    assert vault.card_account_data(card) == {"accountNumber": CARD_NUMBER, "expiryMonth": "12", "expiryYear": "30"}
    assert (card.first_six, card.last_four) == ("555555", "4444")


def test_raw_column_holds_neither_the_number_nor_anything_decodable_without_the_key(card: Card) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT number_ciphertext, number_fingerprint FROM cardholders_card WHERE id = %s", [card.pk])
        raw, stored_fingerprint = cursor.fetchone()
    raw = bytes(raw)
    assert CARD_NUMBER.encode() not in raw
    assert CARD_NUMBER not in raw.hex()
    assert CARD_NUMBER.encode() not in base64.b64decode(base64.b64encode(raw))
    assert len(raw) == 12 + len(CARD_NUMBER) + 16  # nonce, ciphertext, GCM tag
    # The look-up fingerprint is keyed (HMAC), not a bare hash anyone could compute.
    import hashlib

    assert stored_fingerprint != hashlib.sha256(CARD_NUMBER.encode()).hexdigest()
    assert stored_fingerprint == vault.fingerprint(CARD_NUMBER)


def test_tampered_ciphertext_is_refused(card: Card) -> None:
    tampered = bytearray(card.number_ciphertext)
    tampered[15] ^= 0x01
    card.number_ciphertext = bytes(tampered)
    with pytest.raises(vault.VaultError):
        vault.card_account_data(card)


def test_ciphertext_moved_to_another_card_is_refused(card: Card) -> None:
    other = Card.objects.get(pk=card.pk)
    other.number_fingerprint = vault.fingerprint("5105105105105100")
    with pytest.raises(vault.VaultError):
        vault.card_account_data(other)


def test_unknown_key_id_is_refused(card: Card) -> None:
    card.number_key_id = "retired-key"
    with pytest.raises(vault.VaultError, match="retired-key"):
        vault.card_account_data(card)


def test_invalid_card_numbers_are_not_sealed() -> None:
    with pytest.raises(vault.InvalidCardNumberError):
        vault.seal("5555555555554445")


def test_rotation_reencrypts_every_card_and_old_ciphertexts_stay_readable_until_then(card: Card, settings) -> None:
    old_key = settings.CARD_VAULT_KEYS[0]
    old_key_id = settings.CARD_VAULT_ACTIVE_KEY_ID
    new_key = _new_key("rotated-2")
    with override_settings(CARD_VAULT_KEYS=[old_key, new_key], CARD_VAULT_ACTIVE_KEY_ID="rotated-2"):
        card.refresh_from_db()
        assert card.number_key_id == old_key_id
        assert vault.card_account_data(card)["accountNumber"] == CARD_NUMBER
        call_command("rotate_card_vault_key", stdout=io.StringIO())
        card.refresh_from_db()
        assert card.number_key_id == "rotated-2"
    with override_settings(CARD_VAULT_KEYS=[new_key], CARD_VAULT_ACTIVE_KEY_ID="rotated-2"):
        assert vault.card_account_data(card)["accountNumber"] == CARD_NUMBER


@pytest.mark.parametrize(
    ("keys", "active"),
    [
        (["no-separator"], "no-separator"),
        ([f"short:{base64.b64encode(b'x' * 16).decode()}"], "short"),
        ([_new_key("a")], "b"),
    ],
)
def test_misconfigured_keys_fail_loudly(keys: list[str], active: str) -> None:
    with override_settings(CARD_VAULT_KEYS=keys, CARD_VAULT_ACTIVE_KEY_ID=active), pytest.raises(ImproperlyConfigured):
        vault.seal(CARD_NUMBER)


def test_clear_number_leaves_the_vault_in_one_function_only() -> None:
    """Nothing outside cardholders/vault.py calls the decryption primitive."""
    root = Path(__file__).resolve().parents[2]
    callers = [
        path.relative_to(root).as_posix()
        for path in root.glob("**/*.py")
        if ".venv" not in path.parts and "tests" not in path.parts and "_decrypt(" in path.read_text()
    ]
    assert callers == ["cardholders/vault.py"]
    source = (root / "cardholders/vault.py").read_text()
    assert source.count("_decrypt(") == 3  # its definition, reseal (re-encrypts at once) and card_account_data
