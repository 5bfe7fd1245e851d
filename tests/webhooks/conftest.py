"""The issuer's app backend as a real HTTP server in the test process, and the portal's webhooks pointed at it.

- `receiver`: a threaded http.server on 127.0.0.1 (port 0) that checks each request's signature as a receiver
  should (docs/operations.md, "Webhooks": HMAC-SHA256 over "<t>.<raw body>", a five-minute window) and answers
  the statuses it is told to, in turn (200 once the script runs out).
- `webhooks_on`: the portal's webhooks go to the receiver (settings, with a secret of the test's own).
- `tasks_in_process`: Celery tasks run in the test process, as on the embedded default, even with REDIS_URL set.
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from config.celery import app
from tests.issuer_services.conftest import ask  # noqa: F401 - authorizeService from the sandbox's MDES

SECRET = "whsec-" + secrets.token_hex(24)
SIGNATURE_WINDOW_SECONDS = 300


def signature_valid(header: str, body: bytes, secret: str = SECRET) -> bool:
    """What a receiver checks: the timestamp is recent and one v1 signature matches (compared in constant time)."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in fields if name == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    if abs(time.time() - int(timestamps[0])) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for name, value in fields if name == "v1")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signed: bool
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def answers(self, *statuses: int) -> None:
        """The statuses of the next requests, in turn."""
        self.script[:] = statuses

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
        return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signed = signature_valid(self.headers.get("X-Portal-Signature-SHA256", ""), body)
            status = (state.script.pop(0) if state.script else 200) if signed else 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with state.arrived:
                state.received.append(Received(dict(self.headers.items()), body, signed, status))
                state.arrived.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/portal"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhooks_on(settings: Any, receiver: Receiver) -> Receiver:
    settings.WEBHOOKS_URL = receiver.url
    settings.WEBHOOKS_SECRET = SECRET
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    settings.WEBHOOKS_BACKOFF_SECONDS = 1.0
    return receiver


@pytest.fixture
def tasks_in_process() -> Iterator[None]:
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
