"""Is this call from MDES? Each mechanism in ISSUER_SERVICES_AUTHENTICATION must pass.

**mtls** — the TLS proxy in front of the portal verifies MDES's client certificate and names the verified subject
in ISSUER_SERVICES_CLIENT_IDENTITY_HEADER, which must be one of ISSUER_SERVICES_CLIENT_IDENTITIES. The header is
believed only from a proxy: DJANGO_TRUSTED_PROXY_COUNT above 0 and the connection's peer (REMOTE_ADDR) one of
ISSUER_SERVICES_TRUSTED_PROXIES. The proxy must drop the header from what clients send.

**signature** — a JSON Web Signature over the exact body bytes, detached and unencoded (RFC 7515 appendix F with
RFC 7797 `b64: false`, the scheme of UK Open Banking's `x-jws-signature`), in the `X-JWS-Signature` header:
`<base64url(protected header)>..<base64url(signature)>`. The protected header is
`{"alg": "RS256" | "PS256", "b64": false, "crit": ["b64"], "kid": <RFC 7638 thumbprint of the key>,
"iat": <Unix seconds>, "jti": <unique id, 1-64 characters>, "path": <the request path>}`; the signing input is
`ASCII(base64url(protected header)) || "." || body`. The keys are ISSUER_SERVICES_SIGNATURE_KEY_PATHS. `iat` must be
within ISSUER_SERVICES_SIGNATURE_MAX_AGE_SECONDS of the portal's clock and `path` the path called (a signature for
one operation cannot be replayed on another); a `jti` seen before is a replay, remembered in the cache for twice
that age (Redis in production, so every process sees it).
"""

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache as shared_cache
from django.http import HttpRequest

from issuer_services.wire import ErrorCode, IssuerServiceError

SIGNATURE_HEADER = "X-JWS-Signature"
ALGORITHMS = ("RS256", "PS256")
_REPLAY_KEY = "issuer-services:jti:{kid}:{jti}"


def _refused(description: str, code: ErrorCode = ErrorCode.AUTHENTICATION_FAILED) -> IssuerServiceError:
    return IssuerServiceError(code, description, status=401)


# --- mutual TLS at the proxy ---------------------------------------------------------------------------------
def _meta_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def client_identity_check(request: HttpRequest) -> str:
    """The verified client identity the proxy reported; raises IssuerServiceError unless it is an accepted one."""
    if not int(getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0):
        raise _refused("Mutual TLS is required, but the portal is not configured behind a TLS proxy")
    if request.META.get("REMOTE_ADDR") not in settings.ISSUER_SERVICES_TRUSTED_PROXIES:
        raise _refused("The call did not come through the issuer's TLS proxy")
    identity = request.META.get(_meta_name(settings.ISSUER_SERVICES_CLIENT_IDENTITY_HEADER), "").strip()
    if not identity:
        raise _refused("The TLS proxy reported no verified client certificate")
    if identity not in settings.ISSUER_SERVICES_CLIENT_IDENTITIES:
        raise _refused("The client certificate is not one of MDES's")
    return identity


# --- the message signature ---------------------------------------------------------------------------------------
def jwk_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638: SHA-256 over the key's required members in lexicographic order, base64url."""
    numbers = public_key.public_numbers()

    def member(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    canonical = json.dumps({"e": member(numbers.e), "kty": "RSA", "n": member(numbers.n)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode("ascii")


@cache
def _verification_keys(paths: tuple[str, ...]) -> dict[str, rsa.RSAPublicKey]:
    keys: dict[str, rsa.RSAPublicKey] = {}
    for path in paths:
        pem = Path(path).read_bytes()
        key = (
            x509.load_pem_x509_certificate(pem).public_key()
            if b"CERTIFICATE" in pem
            else serialization.load_pem_public_key(pem)
        )
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError(f"{path} holds no RSA public key")
        keys[jwk_thumbprint(key)] = key
    return keys


def verification_keys() -> dict[str, rsa.RSAPublicKey]:
    """The network's signature keys by kid (raises OSError or ValueError for a key that cannot be read)."""
    return _verification_keys(tuple(settings.ISSUER_SERVICES_SIGNATURE_KEY_PATHS))


@dataclass(frozen=True)
class VerifiedSignature:
    kid: str
    jti: str


def signature_check(request: HttpRequest, body: bytes) -> VerifiedSignature:
    """Verify the X-JWS-Signature of `body` for this request's path; raises IssuerServiceError."""
    value = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not value:
        raise _refused(f"The call carries no {SIGNATURE_HEADER} header")
    if len(value) > 4096:
        raise _refused(f"The {SIGNATURE_HEADER} header is too long")
    try:
        header = jwt.get_unverified_header(value)
    except jwt.PyJWTError as exc:
        raise _refused(f"The {SIGNATURE_HEADER} header is not a detached JWS") from exc
    kid = header.get("kid")
    try:
        keys = verification_keys()
    except (OSError, ValueError) as exc:
        raise IssuerServiceError(
            ErrorCode.SERVICE_UNAVAILABLE, "The issuer cannot check signatures at the moment", status=503
        ) from exc
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None or not isinstance(kid, str):
        raise _refused("The signature names no key of the network")
    if header.get("b64") is not False or value.split(".")[1:2] != [""]:
        raise _refused("The signature must be detached with an unencoded payload (b64: false)")
    try:
        jwt.api_jws.PyJWS().decode_complete(value, key, algorithms=list(ALGORITHMS), detached_payload=body)
    except jwt.PyJWTError as exc:
        raise _refused("The signature does not verify for this body") from exc
    issued_at, jti, path = header.get("iat"), header.get("jti"), header.get("path")
    if path != request.path:
        raise _refused("The signature was made for another operation")
    window = settings.ISSUER_SERVICES_SIGNATURE_MAX_AGE_SECONDS
    if isinstance(issued_at, bool) or not isinstance(issued_at, int) or abs(time.time() - issued_at) > window:
        raise _refused("The signature's time (iat) is missing or too far from now")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 64:
        raise _refused("The signature carries no unique id (jti)")
    if not shared_cache.add(_REPLAY_KEY.format(kid=kid, jti=jti), 1, timeout=2 * window):
        raise _refused("This signed call was already received (a replay)", ErrorCode.REPLAYED_REQUEST)
    return VerifiedSignature(kid=kid, jti=jti)


def caller_check(request: HttpRequest, body: bytes) -> dict[str, str]:
    """Every configured mechanism, in order (mTLS first: it costs nothing); what each established, for the record."""
    established: dict[str, str] = {}
    mechanisms = settings.ISSUER_SERVICES_AUTHENTICATION
    if "mtls" in mechanisms:
        established["client"] = client_identity_check(request)
    if "signature" in mechanisms:
        established["kid"] = signature_check(request, body).kid
    return established
