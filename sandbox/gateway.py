"""The API gateway in front of MDES: OAuth 1.0a (RSA-SHA256) verification, as Mastercard's gateway does it.

The signature base string is rebuilt the way Mastercard's official signer builds it, which is not RFC 5849's:
the oauth parameters enter as raw `key=value` strings (values not percent-encoded one by one), are sorted
with the query parameters, joined with '&', and the whole string is percent-encoded once. A verifier built on
an RFC-conformant library would reject the official signer (oauth_body_hash is base64: '+', '/', '=').
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_PARAMETER = re.compile(r'\s*([A-Za-z_]+)="([^"]*)"\s*')
_REQUIRED = (
    "oauth_consumer_key",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_signature_method",
    "oauth_body_hash",
    "oauth_signature",
)
_SIGNATURE_METHODS = ("RSA-SHA256", "RSA-PSS")


@dataclass(frozen=True)
class GatewayRejection:
    status: int
    reason_code: str
    description: str
    details: str | None = None
    recoverable: bool = False

    def body(self) -> dict[str, Any]:
        return gateway_error_body(
            self.reason_code, self.description, details=self.details, recoverable=self.recoverable
        )


def gateway_error_body(
    reason_code: str, description: str, *, details: str | None = None, recoverable: bool = False
) -> dict[str, Any]:
    """The gateway's own error shape (PascalCase and wrapped, unlike MDES's `errors`)."""
    return {
        "Errors": {
            "Error": [
                {
                    "Source": "Gateway",
                    "ReasonCode": reason_code,
                    "Description": description,
                    "Recoverable": recoverable,
                    "Details": details,
                }
            ]
        }
    }


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str  # scheme://host[:port]/path[?query] exactly as the client addressed it
    authorization: str | None
    body: bytes


def percent_encode(text: str) -> str:
    """RFC 3986 percent-encoding, as the signer applies it: only unreserved characters stay."""
    return quote(text, safe="~")


def normalized_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    if parts.scheme == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    elif parts.scheme == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    return f"{parts.scheme}://{netloc}{parts.path or '/'}"


def normalized_parameters(url: str, oauth_parameters: Mapping[str, str]) -> str:
    query = urlsplit(url).query
    pairs = parse_qsl(query, keep_blank_values=True)
    # The signer re-encodes query pairs only when the query arrived percent-encoded.
    if query != unquote(query):
        entries = [f"{percent_encode(key)}={percent_encode(value)}" for key, value in pairs]
    else:
        entries = [f"{key.replace(' ', '+')}={value.replace(' ', '+')}" for key, value in pairs]
    entries += [f"{key}={value}" for key, value in oauth_parameters.items()]
    return "&".join(sorted(entries))


def signature_base_string(method: str, url: str, oauth_parameters: Mapping[str, str]) -> str:
    return "&".join(
        (
            method.upper(),
            percent_encode(normalized_url(url)),
            percent_encode(normalized_parameters(url, oauth_parameters)),
        )
    )


def parse_authorization(header: str) -> dict[str, str] | None:
    """The oauth_* parameters of an `OAuth k="v",...` header, or None if it is not one (or repeats a key)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme != "OAuth" or not rest:
        return None
    parameters: dict[str, str] = {}
    for item in rest.split(","):
        match = _PARAMETER.fullmatch(item)
        if match is None or match.group(1) in parameters:
            return None
        parameters[match.group(1)] = match.group(2)
    return parameters


def body_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _signature_valid(public_key: rsa.RSAPublicKey, method: str, signature: bytes, message: bytes) -> bool:
    scheme: padding.AsymmetricPadding = (
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if method == "RSA-PSS" else padding.PKCS1v15()
    )
    try:
        public_key.verify(signature, message, scheme, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _reject(status: int, reason_code: str, description: str, details: str | None = None) -> GatewayRejection:
    return GatewayRejection(status=status, reason_code=reason_code, description=description, details=details)


def verify(
    request: SignedRequest,
    *,
    client_keys: Mapping[str, rsa.RSAPublicKey],
    now: float,
    window_seconds: int,
    remember_nonce: Callable[[str, str, int], bool],
) -> GatewayRejection | None:
    """None when the request is signed by a registered client within the window and its nonce is fresh.

    Checks run in the order that leaks least: shape, client, body hash, signature, and only for a genuine
    signature the timestamp and nonce (so a forger cannot burn nonces).
    """
    if not request.authorization:
        return _reject(401, "MISSING_AUTHORIZATION", "The request carries no OAuth Authorization header")
    parameters = parse_authorization(request.authorization)
    if parameters is None or any(name not in parameters for name in _REQUIRED):
        return _reject(400, "INVALID_OAUTH_HEADER", "The OAuth header is malformed or misses a parameter")
    if (
        parameters["oauth_signature_method"] not in _SIGNATURE_METHODS
        or parameters.get("oauth_version", "1.0") != "1.0"
    ):
        return _reject(400, "INVALID_OAUTH_HEADER", "Unsupported oauth_signature_method or oauth_version")
    public_key = client_keys.get(parameters["oauth_consumer_key"])
    if public_key is None:
        return _reject(401, "INVALID_CLIENT_ID", "Unknown OAuth consumer key")
    calculated = body_hash(request.body)
    if not hmac.compare_digest(calculated.encode(), parameters["oauth_body_hash"].encode()):
        return _reject(
            400,
            "INVALID_BODY_HASH",
            "The provided oauth_body_hash does not match the SHA256 hash of the request payload",
            f"Calculated: {calculated}, Received: {parameters['oauth_body_hash']}",
        )
    signed = {key: value for key, value in parameters.items() if key != "oauth_signature"}
    base_string = signature_base_string(request.method, request.url, signed)
    try:
        signature = base64.b64decode(unquote(parameters["oauth_signature"]), validate=True)
    except ValueError:
        signature = b""
    if not _signature_valid(public_key, parameters["oauth_signature_method"], signature, base_string.encode()):
        return _reject(401, "INVALID_SIGNATURE", "The OAuth signature could not be verified")
    timestamp = parameters["oauth_timestamp"]
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window_seconds:
        return _reject(401, "OAUTH_TIMESTAMP_OUT_OF_RANGE", "oauth_timestamp is too far from the current time")
    if not remember_nonce(parameters["oauth_consumer_key"], parameters["oauth_nonce"], int(timestamp)):
        return _reject(401, "OAUTH_NONCE_REUSED", "This oauth_nonce was already used")
    return None
