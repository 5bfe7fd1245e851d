"""The production web server: gunicorn started with `config/gunicorn.py` serves the portal, logs one JSON line per
request without its query string, and trusts X-Forwarded-Proto only when told it runs behind a proxy."""

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment a deployment gives the web process (production settings, no test overrides)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CARD_VAULT_KEYS": f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        "CARD_VAULT_ACTIVE_KEY_ID": "k1",
        "CARD_VAULT_FINGERPRINT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        **overrides,
    }


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        origin = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    requests.get(f"{origin}/healthz", timeout=10, allow_redirects=False)  # the first loads Django
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            yield origin
        finally:
            process.send_signal(signal.SIGTERM)  # graceful shutdown: the arbiter stops its workers and exits
            assert process.wait(timeout=30) == 0, log.read_text()


def access_records(log: Path) -> list[dict[str, object]]:
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [record for record in records if record.get("name") == "gunicorn.access"]


def test_gunicorn_serves_the_portal_and_logs_requests_without_query_strings(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with gunicorn(production_env(tmp_path, DJANGO_TRUSTED_PROXY_COUNT="1"), log) as origin:
        probe = requests.get(f"{origin}/healthz", allow_redirects=False, timeout=5)  # plain HTTP, from the host
        response = requests.get(
            f"{origin}/csp-report/?receipt=SECRET-RECEIPT",
            headers={"X-Forwarded-Proto": "https"},
            allow_redirects=False,
            timeout=5,
        )
        # The worker writes its access line after the answer has gone out: wait for it before stopping gunicorn.
        request_id = response.headers["X-Request-ID"]
        deadline = time.monotonic() + 10
        while not [r for r in access_records(log) if r["request_id"] == request_id] and time.monotonic() < deadline:
            time.sleep(0.1)
    assert probe.status_code == 200
    assert probe.json() == {"status": "ok"}
    # Served over "HTTPS" as the trusted proxy said (no redirect): the view's own answer to a GET.
    assert response.status_code == 405

    assert "SECRET-RECEIPT" not in log.read_text()
    (record,) = [r for r in access_records(log) if r["request_id"] == request_id]
    assert record["message"] == "request"
    assert record["method"] == "GET"
    assert record["path"] == "/csp-report/"
    assert record["status"] == 405
    assert isinstance(record["duration_ms"], float)


def test_gunicorn_ignores_forwarded_headers_when_no_proxy_is_trusted(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with gunicorn(production_env(tmp_path, DJANGO_TRUSTED_PROXY_COUNT="0"), log) as origin:
        response = requests.get(f"{origin}/", headers={"X-Forwarded-Proto": "https"}, allow_redirects=False, timeout=5)
    # A client claiming HTTPS is still on plain HTTP: the portal redirects it.
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")
