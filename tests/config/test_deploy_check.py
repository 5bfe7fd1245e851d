"""C1: `manage.py check --deploy` is clean with production-like settings (and refuses unsafe ones)."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CARD_VAULT_", "PORTAL_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="portal.example-issuer.com",
        CARD_VAULT_KEYS=f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        CARD_VAULT_ACTIVE_KEY_ID="k1",
        CARD_VAULT_FINGERPRINT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    env.update(overrides)
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_settings() -> None:
    result = _check(_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_flags_debug_and_insecure_cookies() -> None:
    result = _check(_production_env(DJANGO_DEBUG="1", DJANGO_SECURE_COOKIES="0"))
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout


def test_settings_refuse_to_start_without_a_secret_key() -> None:
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = _check(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
