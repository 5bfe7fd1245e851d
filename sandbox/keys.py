"""Demo key material for the sandbox and for a portal that talks to it.

Everything is generated on first use into one directory (RSA 2048, files 0600) and reused afterwards, so the
portal and the sandbox started separately agree on the keys. Nothing here is ever committed: the repository
ignores *.p12, *.pem and .demo/.
"""

import base64
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

_RSA_BITS = 2048
_CERTIFICATE_VALIDITY = timedelta(days=3650)

CONSUMER_KEY_FILE = "consumer-key.txt"
SIGNING_P12_FILE = "client-signing.p12"
SIGNING_PASSWORD_FILE = "client-signing.password"  # noqa: S105 - a file name, not a password
SIGNING_CERTIFICATE_FILE = "client-signing-certificate.pem"
ENCRYPTION_CERTIFICATE_FILE = "mdes-encryption-certificate.pem"
ENCRYPTION_KEY_FILE = "mdes-encryption-private-key.pem"
JWS_PRIVATE_KEY_FILE = "mdes-jws-private-key.pem"
JWS_PUBLIC_KEY_FILE = "mdes-jws-public-key.pem"
# MDES's calls to the issuer's services: signed with the sandbox's key, the funding account encrypted to the
# issuer's certificate. The .p12 and its password are the portal's; everything else here is the sandbox's.
ISSUER_SERVICES_SIGNING_KEY_FILE = "mdes-issuer-services-signing-private-key.pem"
ISSUER_SERVICES_VERIFICATION_KEY_FILE = "mdes-issuer-services-signing-public-key.pem"
ISSUER_DECRYPTION_P12_FILE = "issuer-services-decryption.p12"
ISSUER_DECRYPTION_PASSWORD_FILE = "issuer-services-decryption.password"  # noqa: S105 - a file name
ISSUER_ENCRYPTION_CERTIFICATE_FILE = "issuer-services-encryption-certificate.pem"


@dataclass(frozen=True)
class DemoKeys:
    directory: Path
    consumer_key: str  # the OAuth consumer key the portal uses
    client_signing_p12: Path  # the portal's OAuth signing key, PKCS#12
    client_signing_p12_password: str = field(repr=False)
    client_signing_certificate: Path  # its public certificate (PEM), registered with the sandbox
    encryption_certificate: Path  # MDES payload-encryption certificate (PEM), given to the portal
    encryption_private_key: Path  # sandbox only
    jws_private_key: Path  # sandbox only: signs redirect payloads (RS256)
    jws_public_key: Path  # for token requestors and tests to verify the JWS
    jws_kid: str
    issuer_services_signing_key: Path  # sandbox only: signs MDES's calls to the portal's issuer services
    issuer_services_verification_key: Path  # given to the portal (ISSUER_SERVICES_SIGNATURE_KEY_PATHS)
    issuer_services_kid: str  # its RFC 7638 thumbprint
    issuer_decryption_p12: Path  # the portal's key for the funding account MDES encrypts to it
    issuer_decryption_p12_password: str = field(repr=False)
    issuer_encryption_certificate: Path  # its certificate, which the sandbox MDES encrypts to


def ensure_demo_keys(directory: Path) -> DemoKeys:
    """Generate whatever is missing in `directory` and describe the result. Safe to call concurrently."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _exclusive_lock(directory / ".lock"):
        consumer_key = _ensure_consumer_key(directory / CONSUMER_KEY_FILE)
        password = _ensure_client_signing(directory)
        _ensure_key_and_certificate(
            directory / ENCRYPTION_KEY_FILE, directory / ENCRYPTION_CERTIFICATE_FILE, "MDES sandbox payload encryption"
        )
        jws_kid = _ensure_jws_key_pair(directory / JWS_PRIVATE_KEY_FILE, directory / JWS_PUBLIC_KEY_FILE)
        issuer_services_kid = jwk_thumbprint(
            _ensure_key_pair(
                directory / ISSUER_SERVICES_SIGNING_KEY_FILE, directory / ISSUER_SERVICES_VERIFICATION_KEY_FILE
            )
        )
        issuer_password = _ensure_p12(
            directory / ISSUER_DECRYPTION_P12_FILE,
            directory / ISSUER_DECRYPTION_PASSWORD_FILE,
            directory / ISSUER_ENCRYPTION_CERTIFICATE_FILE,
            "Push Provisioning Portal demo issuer services encryption",
        )
    return DemoKeys(
        directory=directory,
        consumer_key=consumer_key,
        client_signing_p12=directory / SIGNING_P12_FILE,
        client_signing_p12_password=password,
        client_signing_certificate=directory / SIGNING_CERTIFICATE_FILE,
        encryption_certificate=directory / ENCRYPTION_CERTIFICATE_FILE,
        encryption_private_key=directory / ENCRYPTION_KEY_FILE,
        jws_private_key=directory / JWS_PRIVATE_KEY_FILE,
        jws_public_key=directory / JWS_PUBLIC_KEY_FILE,
        jws_kid=jws_kid,
        issuer_services_signing_key=directory / ISSUER_SERVICES_SIGNING_KEY_FILE,
        issuer_services_verification_key=directory / ISSUER_SERVICES_VERIFICATION_KEY_FILE,
        issuer_services_kid=issuer_services_kid,
        issuer_decryption_p12=directory / ISSUER_DECRYPTION_P12_FILE,
        issuer_decryption_p12_password=issuer_password,
        issuer_encryption_certificate=directory / ISSUER_ENCRYPTION_CERTIFICATE_FILE,
    )


def key_id_for(public_key: rsa.RSAPublicKey) -> str:
    """A stable decimal key id derived from the key (real MDES JWS headers carry a 19-digit decimal kid)."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(int.from_bytes(hashlib.sha256(spki).digest()[:8], "big") >> 1)


def jwk_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid` of the issuer services signature."""
    numbers = public_key.public_numbers()

    def b64url_uint(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    members = f'{{"e":"{b64url_uint(numbers.e)}","kty":"RSA","n":"{b64url_uint(numbers.n)}"}}'
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode("ascii")


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    # The demo script and the sandbox may start at the same moment; only one of them generates.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600 from the start (never readable by others, even briefly)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _ensure_consumer_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    # Shaped like a Mastercard consumer key: "<base64url>!<hex>".
    value = f"{secrets.token_urlsafe(32)}!{secrets.token_hex(24)}"
    _write_private(path, value.encode())
    return value


def _new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)


def _self_signed_certificate(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Push Provisioning Portal demo"),
        ]
    )
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _CERTIFICATE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _ensure_client_signing(directory: Path) -> str:
    return _ensure_p12(
        directory / SIGNING_P12_FILE,
        directory / SIGNING_PASSWORD_FILE,
        directory / SIGNING_CERTIFICATE_FILE,
        "Push Provisioning Portal demo OAuth client",
    )


def _ensure_p12(p12_path: Path, password_path: Path, certificate_path: Path, common_name: str) -> str:
    """A key in a password-protected PKCS#12 file (for the portal), its password and its certificate (for MDES)."""
    if p12_path.exists() and password_path.exists() and certificate_path.exists():
        return password_path.read_text().strip()
    password = secrets.token_urlsafe(24)
    key = _new_private_key()
    certificate = _self_signed_certificate(key, common_name)
    p12 = pkcs12.serialize_key_and_certificates(
        name=p12_path.stem.encode(),
        key=key,
        cert=certificate,
        cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    _write_private(password_path, password.encode())
    _write_private(p12_path, p12)
    _write_private(certificate_path, certificate.public_bytes(serialization.Encoding.PEM))
    return password


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _ensure_key_and_certificate(key_path: Path, certificate_path: Path, common_name: str) -> None:
    if key_path.exists() and certificate_path.exists():
        return
    key = _new_private_key()
    _write_private(key_path, _private_pem(key))
    _write_private(
        certificate_path, _self_signed_certificate(key, common_name).public_bytes(serialization.Encoding.PEM)
    )


def _ensure_jws_key_pair(private_path: Path, public_path: Path) -> str:
    return key_id_for(_ensure_key_pair(private_path, public_path))


def _ensure_key_pair(private_path: Path, public_path: Path) -> rsa.RSAPublicKey:
    if private_path.exists() and public_path.exists():
        public_key = serialization.load_pem_public_key(public_path.read_bytes())
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise ValueError(f"{public_path} does not hold an RSA public key")
        return public_key
    key = _new_private_key()
    _write_private(private_path, _private_pem(key))
    _write_private(
        public_path,
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )
    return key.public_key()
