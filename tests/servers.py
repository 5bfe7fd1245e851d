"""The production processes, started for tests the way a deployment starts them: gunicorn with
`config/gunicorn.py`, and the `Procfile`'s web, worker and beat under honcho (what `make serve` runs).

Each runs in a session of its own with its output in a log file; leaving the context stops it with SIGTERM (its
graceful shutdown) and, should that hang, kills what is left of its process group.
"""

import base64
import json
import os
import re
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

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment a deployment gives the portal's processes (production settings, no test overrides)."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # as `make serve` puts the venv first
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CARD_VAULT_KEYS": f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        "CARD_VAULT_ACTIVE_KEY_ID": "k1",
        "CARD_VAULT_FINGERPRINT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def origin_of(env: dict[str, str]) -> str:
    return f"http://{env['GUNICORN_BIND']}"


@contextmanager
def _running(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def wait_until_healthy(origin: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Until gunicorn answers /healthz (its worker has loaded Django), failing with its log if it exits first."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, log.read_text()
        try:
            requests.get(f"{origin}/healthz", timeout=10, allow_redirects=False)
            return
        except requests.ConnectionError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """gunicorn with the repository's config, as the image's default command; yields its origin. It must exit 0
    on SIGTERM (a graceful shutdown)."""
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
    with _running(command, env, log) as process:
        wait_until_healthy(origin_of(env), process, log)
        yield origin_of(env)
    assert process.returncode == 0, log.read_text()


@contextmanager
def procfile(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The Procfile's processes (web, worker, beat) under honcho, as `make serve` starts them once it has migrated
    and collected the static files; yields honcho, which stops them all as soon as one exits."""
    env_file = log.with_suffix(".env")
    env_file.write_text("")  # honcho reads .env by default: only the environment given here counts
    command = [str(VENV_BIN / "honcho"), "start", "-f", "Procfile", "-e", str(env_file)]
    with _running(command, env, log) as process:
        wait_until_healthy(origin_of(env), process, log)
        yield process


def log_records(log: Path) -> list[dict[str, object]]:
    """The JSON records in a log, honcho's "12:00:00 web.1 | " prefixes taken off."""
    records = []
    decoder = json.JSONDecoder()
    for line in log.read_text().splitlines():
        # Each record where it starts, so that a line two processes wrote into at once still yields its records.
        for start in (found.start() for found in re.finditer(r'\{"asctime"', line)):
            try:
                record, _end = decoder.raw_decode(line, start)
            except json.JSONDecodeError:
                continue
            records.append(record)
    return records


def access_records(log: Path) -> list[dict[str, object]]:
    return [record for record in log_records(log) if record.get("name") == "gunicorn.access"]
