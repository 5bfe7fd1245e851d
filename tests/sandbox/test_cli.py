"""`python -m sandbox` starts a real server from the command line, generating its keys."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_line_serves_the_sandbox(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            "--keys-dir",
            str(tmp_path / "keys"),
            "--portal-origin",
            "http://127.0.0.1:8000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("the sandbox did not start")
        assert health.json() == {"status": "ok"}
        push_page = requests.get(f"http://127.0.0.1:{port}/tr/50100000011/push?pushAccountReceipts=MCC-X", timeout=2)
        assert "form-action 'self' http://127.0.0.1:8000" in push_page.headers["Content-Security-Policy"]
        assert (tmp_path / "keys" / "client-signing.p12").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/mdes" in output
    assert "pushAccountReceipts" not in output  # access log lines carry no query strings
