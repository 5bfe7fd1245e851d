"""G5: what the client sends is signed and encrypted correctly, checked by code independent of the libraries.

The request is captured off the wire; its OAuth signature is verified and its payload decrypted here with
`cryptography` alone (neither Mastercard's libraries nor the sandbox's code). Then the gateway's refusals:
a body changed after signing, another key, a stale timestamp, a replayed nonce, a bad fingerprint, a payload
for another key.
"""

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from requests.adapters import HTTPAdapter

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesApplicationError, MdesGatewayError
from provisioning.mdes.types import SignatureData
from sandbox.fixtures import SUNDAY_STORE_TRID
from tests.fixtures.openapi import schema_errors
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.mdes.conftest import funding

ENVELOPE_DATA = frozenset({"$.pushFundingAccounts.encryptedPayload.encryptedData"})


def _capturing_session(captured: list[requests.PreparedRequest]) -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: captured.append(response.request))
    return session


def _verify_oauth(request: requests.PreparedRequest, certificate_path: Path, consumer_key: str) -> dict[str, str]:
    """RSA-SHA256 over the official signer's base string, rebuilt from scratch (the URL has no query)."""
    header = str(request.headers["Authorization"])
    assert header.startswith("OAuth ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    assert params["oauth_consumer_key"] == consumer_key
    assert params["oauth_signature_method"] == "RSA-SHA256"
    assert params["oauth_version"] == "1.0"
    assert len(params["oauth_nonce"]) >= 8
    body = request.body or b""
    assert isinstance(body, bytes)
    assert params["oauth_body_hash"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    signed = "&".join(sorted(f"{k}={v}" for k, v in params.items() if k != "oauth_signature"))
    base_string = f"{request.method}&{quote(str(request.url), safe='~')}&{quote(signed, safe='~')}"
    public_key = x509.load_pem_x509_certificate(certificate_path.read_bytes()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    signature = base64.b64decode(unquote(params["oauth_signature"]))
    public_key.verify(signature, base_string.encode(), padding.PKCS1v15(), hashes.SHA256())  # raises if invalid
    return params


def _decrypt(envelope: dict[str, Any], private_key_path: Path) -> Any:
    """Field-level decryption written out: RSA-OAEP(SHA-512, MGF1-SHA-512) unwrap, AES-CBC, PKCS#7, hex."""
    key = serialization.load_pem_private_key(private_key_path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    sha512 = hashes.SHA512()
    session_key = key.decrypt(
        bytes.fromhex(envelope["encryptedKey"]), padding.OAEP(mgf=padding.MGF1(sha512), algorithm=sha512, label=None)
    )
    assert len(session_key) == 16  # AES-128, as Mastercard's library makes it
    decryptor = Cipher(algorithms.AES(session_key), modes.CBC(bytes.fromhex(envelope["iv"]))).decryptor()
    padded = decryptor.update(bytes.fromhex(envelope["encryptedData"])) + decryptor.finalize()
    unpadder = symmetric_padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize())


def test_the_push_on_the_wire_is_signed_and_encrypted(
    client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer
) -> None:
    captured: list[requests.PreparedRequest] = []
    client = client_factory(session=_capturing_session(captured))
    signature_data = SignatureData(
        callback_url="https://portal.test/r", locale="en_US", complete_website_activation=False
    )
    result = client.push_multiple_accounts(
        token_requestor_id=SUNDAY_STORE_TRID,
        funding_accounts=[funding(push_account_id="CA-wire")],
        signature_data=signature_data,
    )
    assert result.accounts[0].succeeded
    (request,) = captured

    assert request.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert request.headers["Accept"] == "application/json"
    _verify_oauth(request, sandbox.keys.client_signing_certificate, sandbox.keys.consumer_key)

    assert isinstance(request.body, bytes)
    assert b"5555555555554444" not in request.body
    sent = json.loads(request.body)
    assert schema_errors(sent, "PushMultipleAccountsRequestData", skip=ENVELOPE_DATA) == []
    envelope = sent["pushFundingAccounts"]["encryptedPayload"]
    assert set(envelope) == {"encryptedData", "encryptedKey", "iv", "oaepHashingAlgorithm", "publicKeyFingerprint"}
    assert envelope["oaepHashingAlgorithm"] == "SHA512"
    certificate = x509.load_pem_x509_certificate(sandbox.keys.encryption_certificate.read_bytes())
    assert (
        envelope["publicKeyFingerprint"]
        == hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    )

    accounts = _decrypt(envelope, sandbox.keys.encryption_private_key)
    assert schema_errors(accounts, "PushMultipleFundingAccounts") == []
    (account,) = accounts
    assert account["pushAccountId"] == "CA-wire"
    assert account["fundingAccountData"]["cardAccountData"] == {
        "accountNumber": "5555555555554444",
        "expiryMonth": "12",
        "expiryYear": "39",
    }
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", account["fundingAccountData"]["dataValidUntilTimestamp"]
    )
    assert sent["signatureData"] == {
        "callbackURL": "https://portal.test/r",
        "completeWebsiteActivation": False,
        "locale": "en_US",
    }


def test_every_operation_is_signed(client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer) -> None:
    captured: list[requests.PreparedRequest] = []
    client = client_factory(session=_capturing_session(captured))
    found = client.get_eligible_token_requestors(["555555555"])
    client.get_asset(str(found[0].image_asset_id))
    eligible, asset = captured
    assert isinstance(eligible.body, bytes)
    assert schema_errors(json.loads(eligible.body), "GetEligibleTokenRequestorsRequestData") == []
    assert asset.body is None
    nonces = {
        _verify_oauth(request, sandbox.keys.client_signing_certificate, sandbox.keys.consumer_key)["oauth_nonce"]
        for request in captured
    }
    assert len(nonces) == 2


class _TamperingAdapter(HTTPAdapter):
    """Changes the body after the client signed it, as a man in the middle would."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert isinstance(request.body, bytes)
        request.body = request.body.replace(b'"requestId":"', b'"requestId":"x')
        request.headers["Content-Length"] = str(len(request.body))
        return super().send(request, *args, **kwargs)


class _ReplayingAdapter(HTTPAdapter):
    """Sends each request twice, answering with the second (replayed) response."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        super().send(request.copy(), *args, **kwargs)
        return super().send(request, *args, **kwargs)


def _session_with(adapter: HTTPAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://", adapter)
    return session


def _gateway_refusal(client: TokenConnectClient) -> MdesGatewayError:
    with pytest.raises(MdesGatewayError) as caught:
        client.push_multiple_accounts(token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()])
    assert not caught.value.retryable
    assert caught.value.errors[0].source == "Gateway"
    return caught.value


def test_a_body_changed_after_signing(client_factory: Callable[..., TokenConnectClient]) -> None:
    refusal = _gateway_refusal(client_factory(session=_session_with(_TamperingAdapter())))
    assert (refusal.status, refusal.reason_codes) == (400, ("INVALID_BODY_HASH",))


def test_a_replayed_request(client_factory: Callable[..., TokenConnectClient]) -> None:
    refusal = _gateway_refusal(client_factory(session=_session_with(_ReplayingAdapter())))
    assert (refusal.status, refusal.reason_codes) == (401, ("OAUTH_NONCE_REUSED",))


def test_a_signature_by_another_key(client_factory: Callable[..., TokenConnectClient]) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refusal = _gateway_refusal(client_factory(signing_key=other_key))
    assert (refusal.status, refusal.reason_codes) == (401, ("INVALID_SIGNATURE",))


def test_an_unknown_consumer_key(client_factory: Callable[..., TokenConnectClient]) -> None:
    refusal = _gateway_refusal(client_factory(consumer_key="not-registered!00"))
    assert (refusal.status, refusal.reason_codes) == (401, ("INVALID_CLIENT_ID",))


def test_a_stale_timestamp(client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer) -> None:
    sandbox.shift_clock(600)  # the gateway's clock is ten minutes ahead of ours
    refusal = _gateway_refusal(client_factory())
    assert (refusal.status, refusal.reason_codes) == (401, ("OAUTH_TIMESTAMP_OUT_OF_RANGE",))


def test_a_wrong_key_fingerprint(client_factory: Callable[..., TokenConnectClient]) -> None:
    client = client_factory(encryption_key_fingerprint="ab" * 32)
    with pytest.raises(MdesApplicationError) as caught:
        client.push_multiple_accounts(token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()])
    assert caught.value.reason_codes == ("CRYPTOGRAPHY_ERROR",)


def test_a_payload_encrypted_for_another_key(
    client_factory: Callable[..., TokenConnectClient], sandbox: SandboxServer, tmp_path: Path
) -> None:
    real = x509.load_pem_x509_certificate(sandbox.keys.encryption_certificate.read_bytes())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.subject)
        .public_key(other.public_key())
        .serial_number(7)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .sign(other, hashes.SHA256())
    )
    path = tmp_path / "forged.pem"
    path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    client = client_factory(
        encryption_certificate_path=str(path),
        encryption_key_fingerprint=hashlib.sha256(real.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )
    with pytest.raises(MdesApplicationError) as caught:
        client.push_multiple_accounts(token_requestor_id=SUNDAY_STORE_TRID, funding_accounts=[funding()])
    assert caught.value.reason_codes == ("CRYPTOGRAPHY_ERROR",)
