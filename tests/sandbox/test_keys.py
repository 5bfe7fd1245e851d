"""ensure_demo_keys: everything generated once, private (0600), and reused unchanged afterwards."""

import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from sandbox.keys import DemoKeys, ensure_demo_keys


def _files(keys: DemoKeys) -> list[Path]:
    return sorted(path for path in keys.directory.iterdir() if not path.name.startswith("."))


def test_keys_are_generated_private_and_reused(tmp_path: Path) -> None:
    first = ensure_demo_keys(tmp_path / "keys")
    contents = {path: path.read_bytes() for path in _files(first)}
    second = ensure_demo_keys(tmp_path / "keys")

    assert second == first
    assert second.client_signing_p12_password == first.client_signing_p12_password
    assert {path: path.read_bytes() for path in _files(second)} == contents
    assert len(contents) == 13
    for path in contents:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(first.directory.stat().st_mode) == 0o700


def test_a_missing_pair_is_regenerated_alone(tmp_path: Path) -> None:
    first = ensure_demo_keys(tmp_path)
    signing = first.client_signing_p12.read_bytes()
    first.jws_public_key.unlink()
    second = ensure_demo_keys(tmp_path)
    assert second.client_signing_p12.read_bytes() == signing
    assert second.jws_kid != first.jws_kid


def test_the_p12_opens_with_the_password_and_matches_its_certificate(sandbox_keys: DemoKeys) -> None:
    key, certificate, _ = pkcs12.load_key_and_certificates(
        sandbox_keys.client_signing_p12.read_bytes(), sandbox_keys.client_signing_p12_password.encode()
    )
    registered = x509.load_pem_x509_certificate(sandbox_keys.client_signing_certificate.read_bytes())
    assert key is not None
    assert certificate is not None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.DER, spki) == registered.public_key().public_bytes(
        serialization.Encoding.DER, spki
    )
    assert key.key_size == 2048  # type: ignore[union-attr]


def test_the_repr_does_not_show_the_password(sandbox_keys: DemoKeys) -> None:
    assert sandbox_keys.client_signing_p12_password not in repr(sandbox_keys)
