"""The production-like stack the HTTP benchmarks measure: gunicorn with `config/gunicorn.py` (DEBUG off,
`config.settings.base` plus a hello-world URL), PostgreSQL, Redis, the MDES sandbox, demo data, and signed-in,
stepped-up sessions.

Not a benchmark itself: `pages.py` and `push.py` use it. It drops and recreates the tables of the database in
BENCH_DATABASE_URL (default `postgres://postgres@127.0.0.1:5432/portal_perf_bench`, created if missing).
"""

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.database import bench_database_url  # noqa: E402
from sandbox.keys import ensure_demo_keys  # noqa: E402 - benchmark tooling, like the demo, starts the sandbox

HOST = "127.0.0.1"
PORTAL_PORT = int(os.environ.get("BENCH_PORTAL_PORT", "8710"))
SANDBOX_PORT = int(os.environ.get("BENCH_SANDBOX_PORT", "8711"))
PORTAL_URL = f"http://{HOST}:{PORTAL_PORT}"
SANDBOX_URL = f"http://{HOST}:{SANDBOX_PORT}"
WORK = Path(tempfile.gettempdir()) / f"portal-bench-{PORTAL_PORT}"  # keys and logs: one set per stack on a host


@dataclass(frozen=True)
class Stack:
    env: dict[str, str]
    gunicorn: subprocess.Popen[bytes]
    log: Path  # gunicorn's output, one JSON record a line: its own, the access log's and the portal's


def bench_env() -> dict[str, str]:
    WORK.mkdir(exist_ok=True)
    keys = ensure_demo_keys(WORK / "keys")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "CARD_VAULT_KEYS": f"bench-1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        "CARD_VAULT_ACTIVE_KEY_ID": "bench-1",
        "CARD_VAULT_FINGERPRINT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback: no TLS proxy in front
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_TRUSTED_PROXY_COUNT": "1",  # the push benchmark gives each simulated cardholder its own address
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "DJANGO_CACHE_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
        "PORTAL_DEMO": "1",
        "PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS": "1",
        "PORTAL_MESSAGE_BACKEND": "core.messaging.ConsoleBackend",
        "PORTAL_STEP_UP_MAX_AGE_SECONDS": "3600",  # the sessions made below stay stepped up through a run
        "MDES_ALLOW_LOCAL_SANDBOX": "1",
        "MDES_SIGNING_KEY_PASSWORD": keys.client_signing_p12_password,
        "PORTAL_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        # config/gunicorn.py as deployed, but for recycling: a new worker imports Django afresh (about 1.5 s of CPU
        # here) every ~2,000 requests, which production's request rate pays rarely and a saturating benchmark
        # every few seconds, as if the measured views cost it. GUNICORN_MAX_REQUESTS=2000 measures it anyway.
        "GUNICORN_MAX_REQUESTS": os.environ.get("GUNICORN_MAX_REQUESTS", "0"),
    }


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL built above
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def gunicorn_command() -> list[str]:
    """gunicorn from this venv (else `BENCH_GUNICORN`) with the project's config, as `make serve` and the image run
    it; workers and threads from GUNICORN_WORKERS / GUNICORN_THREADS like there."""
    binary = os.environ.get("BENCH_GUNICORN") or shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if binary is None:
        raise SystemExit("gunicorn is not installed: set BENCH_GUNICORN=/path/to/a/venv/bin/gunicorn")
    return [binary, "-c", str(ROOT / "config" / "gunicorn.py"), "--bind", f"{HOST}:{PORTAL_PORT}", "config.wsgi"]


@contextmanager
def running_stack(env: dict[str, str]) -> Iterator[Stack]:
    """Fresh tables, demo data, the sandbox and gunicorn; stopped (only what this started) on the way out.

    `env` is `bench_env()`, which the calling benchmark also put into its own environment before Django started,
    so that the sessions it makes are signed with the portal's key."""
    keys = ensure_demo_keys(WORK / "keys")
    manage = [sys.executable, str(ROOT / "manage.py")]
    run = {"cwd": ROOT, "env": env, "check": True}
    subprocess.run([*manage, "flush", "--noinput"], **run, stderr=subprocess.DEVNULL)  # type: ignore[call-overload]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], **run)  # type: ignore[call-overload]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], **run)  # type: ignore[call-overload]
    seed = [
        *manage,
        "seed_demo",
        *("--credentials-file", str(WORK / "credentials.json")),
        *("--sandbox-url", SANDBOX_URL),
        *("--portal-url", PORTAL_URL),
        *("--consumer-key", keys.consumer_key),
        *("--signing-key-path", str(keys.client_signing_p12)),
        *("--encryption-certificate-path", str(keys.encryption_certificate)),
        *("--landing-link-file", str(WORK / "gift-link.txt")),
    ]
    # seed_demo refuses to run without DEBUG (it makes users with known passwords); the portal itself runs without.
    subprocess.run(seed, cwd=ROOT, env={**env, "DJANGO_DEBUG": "1"}, check=True, stdout=subprocess.DEVNULL)
    sandbox_command = [sys.executable, "-m", "sandbox", "--host", HOST, "--port", str(SANDBOX_PORT)]
    sandbox_command += ["--keys-dir", str(keys.directory), "--portal-origin", PORTAL_URL]
    sandbox_log = (WORK / "sandbox.log").open("wb")
    sandbox = subprocess.Popen(sandbox_command, cwd=ROOT, env=env, stdout=sandbox_log, stderr=sandbox_log)
    log = WORK / "portal.log"
    gunicorn = None
    try:
        _wait_for(f"{SANDBOX_URL}/healthz")
        subprocess.run([*manage, "refresh_token_requestors"], **run, stdout=subprocess.DEVNULL)  # type: ignore[call-overload]
        with log.open("wb") as output:
            gunicorn = subprocess.Popen(gunicorn_command(), cwd=ROOT, env=env, stdout=output, stderr=output)
        _wait_for(f"{PORTAL_URL}/healthz")
        yield Stack(env=env, gunicorn=gunicorn, log=log)
    finally:
        for process in (gunicorn, sandbox):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        sandbox_log.close()


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (the first is the state, field 3 of proc(5))."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def worker_cpu_seconds(master: subprocess.Popen[bytes]) -> float:
    """User plus system CPU of gunicorn's workers so far: of those running, and, from the master's cumulative
    children times, of those it has reaped (recycled after max_requests, or replaced after a timeout), so that a
    worker leaving between two readings does not take its CPU with it."""
    ticks = os.sysconf("SC_CLK_TCK")
    while True:
        reaped = _stat(master.pid)[13:15]  # cutime, cstime
        running = 0
        for children in Path(f"/proc/{master.pid}/task").glob("*/children"):
            for pid in children.read_text().split():
                try:
                    running += sum(int(ticks_used) for ticks_used in _stat(pid)[11:13])  # utime, stime
                except FileNotFoundError:  # reaped since the listing: the re-reading below sees it
                    continue
        if _stat(master.pid)[13:15] == reaped:  # else a worker was reaped meanwhile and might count twice
            return (sum(int(value) for value in reaped) + running) / ticks


def worker_boots(stack: Stack) -> int:
    """Workers gunicorn has started so far (more than its worker count: some were recycled or replaced)."""
    return sum(1 for line in stack.log.read_text().splitlines() if '"Booting worker with pid' in line)


def log_records(stack: Stack) -> list[dict[str, Any]]:
    """gunicorn's output as records: gunicorn's own, its access log (`gunicorn.access`) and the portal's."""
    records = []
    for line in stack.log.read_text().splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a worker's exit
                continue
    return records


def stepped_up_session(user_pk: int, card_ids: list[str]) -> str:
    """A session as signing in with a second factor and passing step-up leave it; returns its key."""
    import time as clock

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from core.middleware import SESSION_AUTHENTICATED_AT_KEY
    from core.sessions import SESSION_IDLE_RENEWED_AT_KEY
    from users import step_up
    from users.models import User

    user = User.objects.get(pk=user_pk)
    now = clock.time()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["account_authentication_methods"] = [{"method": "password", "at": now}, {"method": "mfa", "at": now}]
    session[SESSION_AUTHENTICATED_AT_KEY] = now
    session[SESSION_IDLE_RENEWED_AT_KEY] = now
    session[step_up.SESSION_KEY] = now
    session[step_up.SESSION_USER_KEY] = user.pk
    session.create()
    assert session.session_key is not None
    return session.session_key
