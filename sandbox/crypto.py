"""MDES's side of the cryptography: field-level payload decryption and the JWS over redirect data.

Written directly on `cryptography`, independently of Mastercard's client library, so that the sandbox checks
the portal's use of that library instead of sharing its assumptions.

Field-level encryption (legacy Mastercard "FLE", not JWE): a random AES key wrapped with RSA-OAEP (SHA-256 or
SHA-512, MGF1 with the same digest; PKCS#1 v1.5 when no digest is named), the JSON encrypted with AES-CBC and
PKCS#7 (or AES-GCM when algorithmCipherMode says so), every binary value hex-encoded.
"""

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_OAEP_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {"SHA256": hashes.SHA256, "SHA512": hashes.SHA512}


class PayloadDecryptionError(Exception):
    """The encrypted payload cannot be opened with the sandbox's key (MDES answers CRYPTOGRAPHY_ERROR)."""


class JwsError(Exception):
    """A compact JWS is malformed, not RS256, or its signature does not verify."""


def certificate_fingerprints(certificate: x509.Certificate) -> frozenset[str]:
    """The fingerprints a client may put in publicKeyFingerprint: SHA-256 of the DER certificate or of the SPKI."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return frozenset({hashlib.sha256(der).hexdigest(), hashlib.sha256(spki).hexdigest()})


def _hex(envelope: Mapping[str, Any], name: str) -> bytes:
    value = envelope.get(name)
    if not isinstance(value, str):
        raise PayloadDecryptionError(f"{name} is missing")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise PayloadDecryptionError(f"{name} is not hex") from exc


def _unwrap_key(private_key: rsa.RSAPrivateKey, wrapped: bytes, digest_name: str | None) -> bytes:
    scheme: padding.AsymmetricPadding
    if digest_name is None:
        scheme = padding.PKCS1v15()
    elif digest_name in _OAEP_DIGESTS:
        digest = _OAEP_DIGESTS[digest_name]()
        scheme = padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
    else:
        raise PayloadDecryptionError("Unsupported oaepHashingAlgorithm")
    try:
        key = private_key.decrypt(wrapped, scheme)
    except ValueError as exc:
        raise PayloadDecryptionError("The session key cannot be unwrapped") from exc
    if len(key) not in (16, 32):
        raise PayloadDecryptionError("The session key must be 128 or 256 bits")
    return key


def _decrypt_cbc(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    if len(iv) != 16 or not ciphertext or len(ciphertext) % 16:
        raise PayloadDecryptionError("CBC needs a 16-byte IV and whole blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = symmetric_padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise PayloadDecryptionError("Bad padding: wrong key or altered data") from exc


def _decrypt_gcm(key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes | None) -> bytes:
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, aad)
    except (InvalidTag, ValueError) as exc:
        raise PayloadDecryptionError("GCM authentication failed") from exc


def decrypt_envelope(
    envelope: Mapping[str, Any], *, private_key: rsa.RSAPrivateKey, accepted_fingerprints: frozenset[str]
) -> bytes:
    """The clear bytes inside an EncryptedPayload object (pushFundingAccounts.encryptedPayload)."""
    fingerprint = envelope.get("publicKeyFingerprint")
    if not isinstance(fingerprint, str) or fingerprint.lower() not in accepted_fingerprints:
        raise PayloadDecryptionError("publicKeyFingerprint names no key of this MDES")
    digest_name = envelope.get("oaepHashingAlgorithm")
    if digest_name is not None and not isinstance(digest_name, str):
        raise PayloadDecryptionError("oaepHashingAlgorithm must be a string")
    key = _unwrap_key(private_key, _hex(envelope, "encryptedKey"), digest_name)
    mode = envelope.get("algorithmCipherMode", "CBC")
    ciphertext = _hex(envelope, "encryptedData")
    if mode == "GCM":
        aad = _hex(envelope, "aad") if "aad" in envelope else None
        return _decrypt_gcm(key, _hex(envelope, "iv"), ciphertext, _hex(envelope, "tag"), aad)
    if mode != "CBC":
        raise PayloadDecryptionError("Unsupported algorithmCipherMode")
    # The specification: "If not present, an IV of zero is assumed."
    iv = _hex(envelope, "iv") if "iv" in envelope else bytes(16)
    return _decrypt_cbc(key, iv, ciphertext)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jws_sign(payload: Mapping[str, Any], *, private_key: rsa.RSAPrivateKey, kid: str) -> str:
    """Compact RS256 JWS with header {"alg":"RS256","kid":...}, as MDES's `signature` field."""
    header = _b64url(json.dumps({"alg": "RS256", "kid": kid}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode("ascii")
    signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{_b64url(signature)}"


def jws_verify(token: str, *, public_key: rsa.RSAPublicKey, kid: str | None = None) -> dict[str, Any]:
    """The payload of a compact RS256 JWS signed by `public_key`; raises JwsError otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("A compact JWS has three parts")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        payload = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except ValueError as exc:
        raise JwsError("The JWS is not base64url JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise JwsError("Only RS256 is accepted")
    if kid is not None and header.get("kid") != kid:
        raise JwsError("Unknown key id")
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise JwsError("The JWS signature does not verify") from exc
    if not isinstance(payload, dict):
        raise JwsError("The JWS payload is not an object")
    return payload


def encrypt_envelope(
    data: Mapping[str, Any], *, certificate: x509.Certificate, iv: bytes | None = None
) -> dict[str, str]:
    """An EncryptedPayload for the holder of `certificate`, as MDES encrypts a funding account to an issuer: a
    random AES-128 key wrapped with RSA-OAEP SHA-512, the JSON in AES-CBC with PKCS#7 (a random IV unless one is
    given), every value hex."""
    key, iv = os.urandom(16), iv if iv is not None else os.urandom(16)
    padder = symmetric_padding.PKCS7(128).padder()
    clear = padder.update(json.dumps(data, separators=(",", ":")).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("The issuer's certificate holds no RSA key")
    wrapped = public_key.encrypt(
        key, padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA512()), algorithm=hashes.SHA512(), label=None)
    )
    return {
        "encryptedData": (encryptor.update(clear) + encryptor.finalize()).hex(),
        "publicKeyFingerprint": hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "encryptedKey": wrapped.hex(),
        "oaepHashingAlgorithm": "SHA512",
        "iv": iv.hex(),
    }


def detached_jws(body: bytes, *, private_key: rsa.RSAPrivateKey, header: Mapping[str, Any]) -> str:
    """A detached JWS with an unencoded payload (RFC 7515 appendix F, RFC 7797 b64=false) over `body`:
    `<base64url(header)>..<base64url(RS256 signature)>`, the signing input being `base64url(header).body`."""
    protected = _b64url(
        json.dumps({"alg": "RS256", **header, "b64": False, "crit": ["b64"]}, separators=(",", ":")).encode()
    )
    signature = private_key.sign(protected.encode("ascii") + b"." + body, padding.PKCS1v15(), hashes.SHA256())
    return f"{protected}..{_b64url(signature)}"
