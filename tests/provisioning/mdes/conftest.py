"""Helpers for the client tests: funding accounts from public test numbers, and a tiny canned HTTP server.

The canned server answers with raw bytes chosen by the test, for what the sandbox cannot produce (truncated or
garbage bodies, redirects, dropped connections). It counts the requests it received.
"""

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

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
    answers: list[bytes]
    received: list[bytes] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mdes"


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
            if answer:
                connection.sendall(answer)
            connection.shutdown(socket.SHUT_RDWR)

    return Handler


@pytest.fixture
def canned_server() -> Iterator[Callable[..., CannedServer]]:
    servers: list[socketserver.ThreadingTCPServer] = []

    def start(*answers: bytes) -> CannedServer:
        canned = CannedServer(port=0, answers=list(answers))
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(canned))
        server.daemon_threads = True
        canned.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return canned

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def http_response(
    status: str, body: bytes, *, headers: dict[str, str] | None = None, length: int | None = None
) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body) if length is None else length}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {"Content-Type": "application/json"}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def canned_client(client_factory: Callable[..., TokenConnectClient]) -> Callable[[CannedServer], TokenConnectClient]:
    def build(canned: CannedServer, **overrides: Any) -> TokenConnectClient:
        return client_factory(**{"base_url": canned.base_url, "connect_retries": 0, **overrides})

    return build
