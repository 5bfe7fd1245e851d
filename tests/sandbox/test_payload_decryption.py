"""The sandbox opens Mastercard field-level encryption with its own code, and refuses what it cannot open."""

import hashlib
import json
import os

import pytest
from client_encryption.field_level_encryption import encrypt_payload  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sandbox.crypto import PayloadDecryptionError, certificate_fingerprints, decrypt_envelope
from sandbox.fixtures import SUNDAY_STORE_TRID
from sandbox.keys import DemoKeys
from tests.fixtures.mdes_samples import funding_account, push_payload
from tests.fixtures.sandbox_server import SandboxServer, encryption_config

ACCOUNTS = [{"pushAccountId": "CA-1", "fundingAccountData": {"cardAccountData": {"accountNumber": "5555555555554444"}}}]


def _certificate(keys: DemoKeys) -> x509.Certificate:
    return x509.load_pem_x509_certificate(keys.encryption_certificate.read_bytes())


def _private_key(keys: DemoKeys) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(keys.encryption_private_key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _open(keys: DemoKeys, envelope: dict) -> object:
    clear = decrypt_envelope(
        envelope, private_key=_private_key(keys), accepted_fingerprints=certificate_fingerprints(_certificate(keys))
    )
    return json.loads(clear)


def _library_envelope(keys: DemoKeys, **overrides: object) -> dict:
    body = encrypt_payload(push_payload(SUNDAY_STORE_TRID, ACCOUNTS), encryption_config(keys, **overrides))
    return body["pushFundingAccounts"]["encryptedPayload"]


def _manual_envelope(keys: DemoKeys, *, wrap: padding.AsymmetricPadding, mode: str, digest: str | None) -> dict:
    key, clear = os.urandom(16), json.dumps(ACCOUNTS).encode()
    fingerprint = hashlib.sha256(_certificate(keys).public_bytes(serialization.Encoding.DER)).hexdigest()
    public_key = _certificate(keys).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    envelope = {"publicKeyFingerprint": fingerprint, "encryptedKey": public_key.encrypt(key, wrap).hex()}
    if digest:
        envelope["oaepHashingAlgorithm"] = digest
    if mode == "GCM":
        iv, aad = os.urandom(12), b"aad"
        sealed = AESGCM(key).encrypt(iv, clear, aad)
        envelope.update(
            algorithmCipherMode="GCM",
            iv=iv.hex(),
            encryptedData=sealed[:-16].hex(),
            tag=sealed[-16:].hex(),
            aad=aad.hex(),
        )
    else:
        padder = symmetric_padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
        ciphertext = encryptor.update(padder.update(clear) + padder.finalize()) + encryptor.finalize()
        envelope["encryptedData"] = ciphertext.hex()  # no "iv": an IV of zero is assumed
    return envelope


def test_what_the_mastercard_library_encrypts_opens(sandbox_keys: DemoKeys) -> None:
    envelope = _library_envelope(sandbox_keys)
    assert envelope["oaepHashingAlgorithm"] == "SHA512"
    assert _open(sandbox_keys, envelope) == ACCOUNTS


def test_the_public_key_fingerprint_and_sha256_oaep_are_accepted(sandbox_keys: DemoKeys) -> None:
    envelope = _library_envelope(
        sandbox_keys,
        oaepPaddingDigestAlgorithm="SHA-256",
        encryptionCertificateFingerprintFieldName=None,
        encryptionKeyFingerprintFieldName="publicKeyFingerprint",
    )
    spki = (
        _certificate(sandbox_keys)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert envelope["publicKeyFingerprint"] == hashlib.sha256(spki).hexdigest()
    assert _open(sandbox_keys, envelope) == ACCOUNTS


def test_pkcs1_v15_zero_iv_and_gcm_variants_of_the_spec_open(sandbox_keys: DemoKeys) -> None:
    sha256 = hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(sha256), algorithm=sha256, label=None)
    assert (
        _open(sandbox_keys, _manual_envelope(sandbox_keys, wrap=padding.PKCS1v15(), mode="CBC", digest=None))
        == ACCOUNTS
    )
    assert _open(sandbox_keys, _manual_envelope(sandbox_keys, wrap=oaep, mode="GCM", digest="SHA256")) == ACCOUNTS


def test_a_wrong_fingerprint_is_refused(sandbox_keys: DemoKeys) -> None:
    envelope = {**_library_envelope(sandbox_keys), "publicKeyFingerprint": "ab" * 32}
    with pytest.raises(PayloadDecryptionError, match="publicKeyFingerprint"):
        _open(sandbox_keys, envelope)


def test_altered_ciphertext_is_refused(sandbox_keys: DemoKeys) -> None:
    envelope = _library_envelope(sandbox_keys)
    data = bytearray(bytes.fromhex(envelope["encryptedData"]))
    data[-17] ^= 0x01  # flips the padding byte of the last block
    with pytest.raises(PayloadDecryptionError, match="padding"):
        _open(sandbox_keys, {**envelope, "encryptedData": data.hex()})


def test_the_api_answers_cryptography_error_for_a_wrong_fingerprint(sandbox: SandboxServer) -> None:
    response = sandbox.push(
        push_payload(SUNDAY_STORE_TRID, [funding_account()]), encryptionCertificateFingerprint="cd" * 32
    )
    assert response.status_code == 400
    assert [e["reasonCode"] for e in response.json()["errors"]] == ["CRYPTOGRAPHY_ERROR"]


def test_the_api_answers_cryptography_error_for_another_key(sandbox: SandboxServer, tmp_path) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = _certificate(sandbox.keys)
    forged = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(certificate.issuer)
        .public_key(other.public_key())
        .serial_number(1)
        .not_valid_before(certificate.not_valid_before_utc)
        .not_valid_after(certificate.not_valid_after_utc)
        .sign(other, hashes.SHA256())
    )
    path = tmp_path / "other.pem"
    path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    # The right fingerprint on a key wrapped for another key: the unwrap itself must fail.
    fingerprint = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    response = sandbox.push(
        push_payload(SUNDAY_STORE_TRID, [funding_account()]),
        encryptionCertificate=str(path),
        encryptionCertificateFingerprint=fingerprint,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["reasonCode"] for e in errors] == ["CRYPTOGRAPHY_ERROR"]
    assert errors[0]["source"] == "INPUT"
