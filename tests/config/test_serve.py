"""`make serve`'s processes end to end: the Procfile's gunicorn, Celery worker and beat on PostgreSQL and Redis, the
sandbox as MDES, and one cardholder's push through gunicorn over plain HTTP (a requests session with cookies).

Needs PostgreSQL and Redis (DATABASE_URL/REDIS_URL), as in CI; skipped on the embedded default. The processes use
the test database, a Celery queue and a cache key space of their own, so nothing else on the broker is touched.
"""

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from cardholders.models import Card
from config.celery import app as celery_app
from provisioning import refresh
from provisioning.models import CardToken, JobRun, NetworkConfiguration, PushRequest, TokenRequestor
from provisioning.refresh import REFRESH_JOB
from tests import factories
from tests.factories import TEST_CARD_NUMBERS, TEST_PASSWORD
from tests.fixtures.sandbox_server import SandboxServer
from tests.metrics import Samples, samples_of, value
from tests.servers import ROOT, origin_of, procfile, production_env
from tests.wallet import wallet_decides

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")),
        reason="needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)",
    ),
]

DEMOPAY = "50100000011"


@dataclass(frozen=True)
class Served:
    origin: str
    log: Path
    queue: str
    honcho: subprocess.Popen[bytes]
    env: dict[str, str]


def _stack_env(tmp_path: Path, sandbox: SandboxServer, queue: str) -> dict[str, str]:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return production_env(
        tmp_path,
        # The test database (its rows are this test's), the card vault keys the factories sealed cards with.
        DATABASE_URL=f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        CARD_VAULT_KEYS=os.environ["CARD_VAULT_KEYS"],
        CARD_VAULT_ACTIVE_KEY_ID=os.environ["CARD_VAULT_ACTIVE_KEY_ID"],
        CARD_VAULT_FINGERPRINT_KEY=os.environ["CARD_VAULT_FINGERPRINT_KEY"],
        REDIS_URL=settings.REDIS_URL,
        DJANGO_CACHE_KEY_PREFIX=f"serve-test-{queue}",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        CELERY_WORKER_CONCURRENCY="1",
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "celerybeat-schedule"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_WORKERS="2",
        # Plain HTTP on loopback, no TLS proxy in front (as `make demo` and the benchmarks run it).
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        MDES_ALLOW_LOCAL_SANDBOX="1",
        PORTAL_MESSAGE_BACKEND="core.messaging.SandboxInboxBackend",
        PORTAL_SANDBOX_INBOX_URL=f"{sandbox.origin}/inbox/messages",
        **{name: os.environ[name] for name in os.environ if name.startswith("MDES_SANDBOX_TEST_")},  # key password
    )


def _manage(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def served(tmp_path: Path, sandbox: SandboxServer, sandbox_network_config: NetworkConfiguration) -> Iterator[Served]:
    """`make serve` on the test database: static files collected (migrations are applied already), then honcho."""
    queue = f"serve-test-{secrets.token_hex(4)}"
    env = _stack_env(tmp_path, sandbox, queue)
    collected = _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert collected.returncode == 0, collected.stderr
    sandbox_network_config.callback_base_url = origin_of(env)
    sandbox_network_config.save()
    log = tmp_path / "serve.log"
    with procfile(env, log) as honcho:
        yield Served(origin=origin_of(env), log=log, queue=queue, honcho=honcho, env=env)
    with celery_app.connection_for_write() as broker:
        broker.default_channel.client.delete(queue)  # type: ignore[attr-defined]  # the queue is this test's


@pytest.fixture
def cardholder_with_card(sandbox_network_config: NetworkConfiguration) -> Card:
    """A cardholder (a password the production hashers know) with a card, and DemoPay offered for it."""
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    holder = factories.CardholderFactory.create()
    hasher = PBKDF2PasswordHasher()
    holder.user.password = hasher.encode(TEST_PASSWORD, hasher.salt())
    holder.user.save(update_fields=["password"])
    card: Card = factories.CardFactory.create(cardholder=holder)
    return card


def _form_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


def _code_sent_to(sandbox: SandboxServer, address: str) -> str:
    messages = requests.get(f"{sandbox.origin}/inbox/messages.json", params={"to": address}, timeout=5).json()
    code = re.search(r"\b(\d{8})\b", messages["messages"][0]["body"])  # the newest first
    assert code
    return code.group(1)


def _scrape(origin: str) -> Samples:
    response = requests.get(f"{origin}/metrics", timeout=10)  # from loopback: the only callers it answers
    assert response.status_code == 200
    return samples_of(response.text)


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def test_a_cardholder_pushes_a_card_through_the_production_processes(
    served: Served, cardholder_with_card: Card, sandbox: SandboxServer
) -> None:
    card = cardholder_with_card
    email = card.cardholder.user.email  # type: ignore[union-attr]
    demopay = TokenRequestor.objects.get(trid=DEMOPAY)
    browser = requests.Session()

    login = browser.get(f"{served.origin}/accounts/login/", timeout=10)
    signed_in = browser.post(
        login.url,
        data={
            "csrfmiddlewaretoken": _form_value(login.text, "csrfmiddlewaretoken"),
            "login": email,
            "password": TEST_PASSWORD,
        },
        timeout=30,
    )
    assert signed_in.status_code == 200
    assert urlsplit(signed_in.url).path == "/"

    # The wallet choice asks for a fresh proof first: a code by e-mail, which the sandbox's inbox shows.
    step_up = browser.get(f"{served.origin}/wallets/", params={"card": str(card.public_id)}, timeout=10)
    assert urlsplit(step_up.url).path == "/confirm-it-is-you/"
    next_url = parse_qs(urlsplit(step_up.url).query)["next"][0]
    csrf = _form_value(step_up.text, "csrfmiddlewaretoken")
    sent = browser.post(
        step_up.url,
        data={"csrfmiddlewaretoken": csrf, "action": "send", "channel": "email", "next": next_url},
        timeout=10,
    )
    assert sent.status_code == 200
    code = _code_sent_to(sandbox, email)
    choose = browser.post(
        step_up.url,
        data={"csrfmiddlewaretoken": csrf, "action": "verify_code", "code": code, "next": next_url},
        timeout=10,
    )
    assert urlsplit(choose.url).path == "/wallets/"
    assert f'name="token_requestor" value="{demopay.pk}"' in choose.text

    pushed = browser.post(
        f"{served.origin}/push/",
        data={
            "csrfmiddlewaretoken": _form_value(choose.text, "csrfmiddlewaretoken"),
            "card": str(card.public_id),
            "token_requestor": str(demopay.pk),
            "idempotency_key": _form_value(choose.text, "idempotency_key"),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert pushed.status_code == 302
    wallet = pushed.headers["Location"]
    assert wallet.startswith(sandbox.origin)  # the sandbox wallet's WEB push URI, as MDES answered
    callback = wallet_decides(wallet, "APPROVED")
    assert callback.startswith(f"{served.origin}/push/")

    outcome = browser.get(callback, timeout=30)
    assert outcome.status_code == 200
    assert re.search(r"<h1[^>]*>\s*Your Everyday Debit is in DemoPay\s*</h1>", outcome.text)
    push = PushRequest.objects.get()
    assert push.state == PushRequest.State.RETURNED
    assert push.receipts.get().result == "APPROVED"
    assert CardToken.objects.filter(card=card, trid=DEMOPAY).exists()  # the network check at the callback

    # "Refresh from MDES now" as staff's button enqueues it: the worker of the Procfile runs it.
    refreshes = JobRun.objects.filter(job=REFRESH_JOB, state=JobRun.State.SUCCEEDED).count()
    celery_app.send_task("provisioning.refresh_token_requestors", queue=served.queue)
    ran = {"task": "provisioning.refresh_token_requestors", "outcome": "succeeded"}
    assert _within(60, lambda: value(_scrape(served.origin), "portal_celery_tasks_total", **ran) == 1), (
        served.log.read_text()[-5000:]
    )
    assert JobRun.objects.filter(job=REFRESH_JOB, state=JobRun.State.SUCCEEDED).count() == refreshes + 1

    # The metrics directory is this run's: every figure is what the processes counted since they started.
    figures = _scrape(served.origin)
    for step, label in (("started", "web"), ("pushed", "all"), ("redirected", "web"), ("returned", "used")):
        assert value(figures, "portal_pushes_total", requestor=DEMOPAY, step=step, outcome=label) == 1, step
    mdes_push = {"operation": "pushMultipleAccounts", "status": "200"}
    assert value(figures, "portal_mdes_request_duration_seconds_count", **mdes_push) == 1
    assert value(figures, "portal_one_time_codes_total", outcome="sent") == 1
    assert value(figures, "portal_one_time_code_checks_total", outcome="accepted") == 1
    lag = "portal_celery_queue_lag_seconds_count"
    assert value(figures, lag, task="provisioning.refresh_token_requestors") == 1  # stamped here, observed there

    ready = requests.get(f"{served.origin}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    # The worker container's health check (system checks skipped: they refuse the loopback sandbox without DEBUG).
    health = _manage(served.env, "worker_health", "--timeout", "10", "--skip-checks")
    assert health.returncode == 0, health.stderr

    assert served.honcho.poll() is None  # web, worker and beat all still up (honcho stops all when one exits)
    log = served.log.read_text()
    assert "beat: Starting..." in log
    assert TEST_CARD_NUMBERS[0] not in log
    receipt = parse_qs(urlsplit(callback).query)
    assert all(value not in log for values in receipt.values() for value in values if len(value) > 8)
