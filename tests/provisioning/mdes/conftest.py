"""Helpers for the client tests: funding accounts from public test numbers, and a tiny canned HTTP server.

The canned server answers with raw bytes chosen by the test, for what the sandbox cannot produce (truncated,
oversized, slow or garbage bodies, redirects, dropped connections, TLS with a self-signed certificate). It counts
the requests it received.
"""

import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.types import PushFundingAccount
from tests.fixtures.mdes_samples import ELIGIBLE_PAN


def card(pan: str = ELIGIBLE_PAN, month: str = "12", year: str = "39") -> dict[str, str]:
    """The shape cardholders.vault.card_account_data returns."""
    return {"accountNumber": pan, "expiryMonth": month, "expiryYear": year}


def funding(pan: str = ELIGIBLE_PAN, push_account_id: str = "CA-1", **fields: Any) -> PushFundingAccount:
    return PushFundingAccount(push_account_id=push_account_id, card_account_data=card(pan), **fields)


@dataclass
class CannedServer:
    port: int
    # An answer is sent at once, or, given as several parts, part by part `pause` seconds apart.
    answers: list[bytes | Sequence[bytes]]
    scheme: str = "http"
    pause: float = 0.0
    received: list[bytes] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/mdes"


def _handler(canned: CannedServer) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            connection: socket.socket = self.request
            connection.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            while len(body) < length:
                body += connection.recv(65536)
            canned.received.append(head + b"\r\n\r\n" + body)
            answer = canned.answers.pop(0) if canned.answers else b""
            parts = [answer] if isinstance(answer, bytes) else answer
            try:
                for number, part in enumerate(parts):
                    if number:
                        time.sleep(canned.pause)
                    connection.sendall(part)
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client hung up first, as it does on oversized or slow answers

    return Handler


@pytest.fixture
def canned_server() -> Iterator[Callable[..., CannedServer]]:
    servers: list[socketserver.ThreadingTCPServer] = []

    def start(*answers: bytes | Sequence[bytes], tls: ssl.SSLContext | None = None, pause: float = 0.0) -> CannedServer:
        canned = CannedServer(port=0, answers=list(answers), scheme="https" if tls else "http", pause=pause)
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(canned))
        server.daemon_threads = True
        if tls is not None:
            # The handshake happens on accept: a client that refuses the certificate never reaches the handler.
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        canned.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return canned

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def http_response(
    status: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    length: int | None = None,
    declare_length: bool = True,
) -> bytes:
    """Without a declared length, the body ends when the server closes the connection."""
    lines = [f"HTTP/1.1 {status}", "Connection: close"]
    if declare_length:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines += [f"{name}: {value}" for name, value in (headers or {"Content-Type": "application/json"}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def canned_client(client_factory: Callable[..., TokenConnectClient]) -> Callable[[CannedServer], TokenConnectClient]:
    def build(canned: CannedServer, **overrides: Any) -> TokenConnectClient:
        return client_factory(**{"base_url": canned.base_url, "connect_retries": 0, **overrides})

    return build


@pytest.fixture(scope="session")
def self_signed_tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server TLS context for 127.0.0.1 with a certificate no CA signed (valid in every other respect)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory: Path = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context
