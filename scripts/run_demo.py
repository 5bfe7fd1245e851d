"""Run the demo: the portal and the MDES sandbox on loopback, seeded, with sign-in details printed.

Started by `make demo`. Ctrl-C stops every process it started. State lives in .demo/ (git-ignored):
generated keys, the SQLite database and the demo credentials, so a second run resumes where the first ended.
"""

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / ".demo"
HOST = "127.0.0.1"
PORTAL_PORT = int(os.environ.get("PORTAL_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8001"))
PORTAL_URL = f"http://{HOST}:{PORTAL_PORT}"
SANDBOX_URL = f"http://{HOST}:{SANDBOX_PORT}"

sys.path.insert(0, str(ROOT))
from sandbox.keys import ensure_demo_keys  # noqa: E402 - the demo tooling, not the portal, uses the sandbox


def _portal_secrets() -> dict[str, str]:
    """Secrets of the demo portal, made once and kept in .demo/portal-secrets.json."""
    path = DEMO_DIR / "portal-secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "CARD_VAULT_KEYS": f"demo-1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        "CARD_VAULT_ACTIVE_KEY_ID": "demo-1",
        "CARD_VAULT_FINGERPRINT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def _wait_for(url: str, name: str, processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise SystemExit(f"{name} did not start: a process exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{name} did not answer at {url} within {timeout:.0f} s")


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stop the children the same way Ctrl-C does


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DEMO_DIR.mkdir(exist_ok=True)
    for port, name, variable in ((PORTAL_PORT, "portal", "PORTAL_PORT"), (SANDBOX_PORT, "sandbox", "SANDBOX_PORT")):
        if not _port_free(port):
            raise SystemExit(f"Port {port} for the {name} is in use. Stop what uses it, or set {variable}=<port>.")

    keys = ensure_demo_keys(DEMO_DIR / "keys")
    env = {
        **os.environ,
        **_portal_secrets(),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "PORTAL_DEMO": "1",
        "PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS": "1",
        # One-time codes "sent" by SMS or e-mail appear on the sandbox's inbox page.
        "PORTAL_MESSAGE_BACKEND": "core.messaging.SandboxInboxBackend",
        "PORTAL_SANDBOX_INBOX_URL": f"{SANDBOX_URL}/inbox/messages",
        "PORTAL_BASE_URL": PORTAL_URL,
        "PORTAL_ISSUER_NAME": os.environ.get("PORTAL_ISSUER_NAME", "Demo Bank"),
        "PORTAL_ENVIRONMENT_LABEL": "Demo · local MDES sandbox",
        # The sandbox's simulated Click to Pay beside the real one's TRID.
        "CLICK_TO_PAY_TOKEN_REQUESTOR_IDS": "50123197928,50100000033",
        "MDES_SIGNING_KEY_PASSWORD": keys.client_signing_p12_password,
        # MDES's calls to the issuer (a card typed into the sandbox's wallet): signed by the sandbox, encrypted
        # to the demo's own issuer key; no TLS proxy on loopback, so the signature alone vouches for MDES.
        "ISSUER_SERVICES_ENABLED": "1",
        "ISSUER_SERVICES_AUTHENTICATION": "signature",
        "ISSUER_SERVICES_SIGNATURE_KEY_PATHS": str(keys.issuer_services_verification_key),
        "ISSUER_SERVICES_DECRYPTION_KEY_PATH": str(keys.issuer_decryption_p12),
        "ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD": keys.issuer_decryption_p12_password,
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{DEMO_DIR / 'db.sqlite3'}")
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    credentials_file = DEMO_DIR / "credentials.json"
    landing_link_file = DEMO_DIR / "gift-link.txt"

    print("Preparing the demo database…", flush=True)
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            *manage,
            "seed_demo",
            "--credentials-file",
            str(credentials_file),
            "--sandbox-url",
            SANDBOX_URL,
            "--portal-url",
            PORTAL_URL,
            "--consumer-key",
            keys.consumer_key,
            "--signing-key-path",
            str(keys.client_signing_p12),
            "--encryption-certificate-path",
            str(keys.encryption_certificate),
            "--landing-link-file",
            str(landing_link_file),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )

    commands = {
        "sandbox": [
            python,
            "-m",
            "sandbox",
            "--host",
            HOST,
            "--port",
            str(SANDBOX_PORT),
            "--keys-dir",
            str(keys.directory),
            "--portal-origin",
            PORTAL_URL,
            "--issuer-services-url",
            f"{PORTAL_URL}/mdes-issuer/1/0",
        ],
        "portal": [*manage, "runserver", f"{HOST}:{PORTAL_PORT}", "--noreload"],
    }
    if env.get("REDIS_URL") or env.get("CELERY_BROKER_URL"):
        commands["worker"] = [python, "-m", "celery", "-A", "config", "worker", "--beat", "--loglevel", "INFO"]
    else:
        commands["periodic jobs"] = [*manage, "run_periodic_jobs"]

    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(subprocess.Popen(commands.pop("sandbox"), cwd=ROOT, env=env, start_new_session=True))
        _wait_for(f"{SANDBOX_URL}/healthz", "The sandbox", processes)
        print("Fetching the token requestors and their logos from the sandbox MDES…", flush=True)
        subprocess.run([*manage, "refresh_token_requestors"], cwd=ROOT, env=env, check=True)
        for command in commands.values():
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))
        _wait_for(f"{PORTAL_URL}/healthz", "The portal", processes)
        credentials = json.loads(credentials_file.read_text())
        print(
            f"""
==========================================================================================
 Push Provisioning Portal demo is running. Ctrl-C stops it.

 Portal (cardholders)  {PORTAL_URL}/
   sign in as          alice@demo.example  /  {credentials["cardholder_password"]}
                       bob@demo.example    /  {credentials["cardholder_password"]}
 Staff area            {PORTAL_URL}/admin/
   sign in as          ops@demo.example    /  {credentials["staff_password"]}
   authenticator code  make demo-totp   (in another terminal; or add the TOTP secret
                       {credentials["staff_totp_secret"]} to an authenticator app)
 Gift card link        {landing_link_file.read_text()}
   (open it on a phone, or here and scan the QR code; its code goes to {SANDBOX_URL}/inbox)
 MDES sandbox          {SANDBOX_URL}/        one-time codes "sent" by the portal: {SANDBOX_URL}/inbox
 Type a card in        {SANDBOX_URL}/wallet/50100000011/add-card   (DemoPay asks the portal's issuer services)
   Alice's test card   5555 5555 5555 4444, expiry 12/29, any 3-digit code; her approvals: {PORTAL_URL}/wallet-requests/
 Data                  {env["DATABASE_URL"]}
==========================================================================================
""",
            flush=True,
        )
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("A demo process stopped; stopping the others.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
