"""H6: a delivery reaches the issuer's app backend signed; a failed attempt is retried with the same delivery id (on a
real Celery worker with PostgreSQL and Redis, in-process on the embedded default); what cannot succeed fails at once."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app
from tests.https_client import HttpsClient
from tests.metrics import moved, scrape
from tests.webhooks.conftest import SECRET, Receiver
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import retry_delay_seconds, webhook_delivery_attempt, webhook_event_send
from webhooks.tasks import webhook_deliver_due

ROOT = Path(__file__).resolve().parents[2]
REAL_SERVICES = bool(os.environ.get("REDIS_URL")) and os.environ.get("DATABASE_URL", "").startswith("postgres")
PAYLOAD = {"wallet_request_id": "5b0f6c3e-0000-4000-8000-000000000001", "card_last_four": "0366"}

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until(condition: Any, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def deliveries_run(webhooks_on: Receiver) -> Iterator[str]:
    """Where the deliveries' task runs: a Celery worker on the broker (PostgreSQL and Redis), else in-process."""
    if not REAL_SERVICES:
        yield "in-process"
        return
    app.control.purge()  # messages other tests left for a worker that never ran
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "WEBHOOKS_URL": webhooks_on.url,
        "WEBHOOKS_SECRET": SECRET,
        "WEBHOOKS_BACKOFF_SECONDS": "1",
        "WEBHOOKS_MAX_ATTEMPTS": "3",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield "worker"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)


def test_a_signed_delivery_that_fails_once_is_retried_with_the_same_delivery_id(
    webhooks_on: Receiver, deliveries_run: str
) -> None:
    receiver = webhooks_on
    receiver.answers(500, 200)

    delivery = webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD, key="request-1")

    assert delivery is not None
    first, retry = receiver.wait_for(2, timeout=60)[:2]
    assert (first.signed, first.answered) == (True, 500)
    assert (retry.signed, retry.answered) == (True, 200)
    assert first.headers["X-Delivery-Id"] == retry.headers["X-Delivery-Id"] == str(delivery.delivery_id)
    assert first.headers["X-Event-Type"] == "wallet_request.pending"
    assert first.body == retry.body
    assert retry.event == {
        "id": str(delivery.event_id),
        "type": "wallet_request.pending",
        "created_at": delivery.created_at.isoformat(),
        "data": PAYLOAD,
    }
    assert _wait_until(lambda: WebhookDelivery.objects.get().state == WebhookDelivery.State.DELIVERED)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status, delivery.next_attempt_at) == (2, 200, None)
    assert delivery.delivered_at is not None
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status", "error"))
    assert attempts == [(1, 500, "answered HTTP 500"), (2, 200, "")]
    assert len(receiver.wait_for(3, timeout=2)) == 2  # and nothing more


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_an_answer_that_a_retry_cannot_change_fails_the_delivery_at_once(
    webhooks_on: Receiver, tasks_in_process: None, status: int
) -> None:
    webhooks_on.answers(status)
    _, before = scrape(HttpsClient())

    delivery = webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD)

    assert delivery is not None
    assert len(webhooks_on.wait_for(2, timeout=1)) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 1, status)
    assert delivery.last_error == f"answered HTTP {status}"
    _, after = scrape(HttpsClient())
    figure = "portal_webhook_attempts_total"
    assert moved(before, after, figure, event_type="wallet_request.pending", outcome="failed") == 1
    assert moved(before, after, figure, event_type="wallet_request.pending", outcome="will_retry") == 0


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_answers_worth_another_try_are_retried_until_the_attempts_run_out(
    webhooks_on: Receiver, tasks_in_process: None, status: int
) -> None:
    webhooks_on.answers(status, status, status)

    delivery = webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD)

    assert delivery is not None
    received = webhooks_on.wait_for(3)
    assert [r.answered for r in received] == [status] * 3  # WEBHOOKS_MAX_ATTEMPTS is 3 here
    assert len({r.headers["X-Delivery-Id"] for r in received}) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert WebhookAttempt.objects.filter(delivery=delivery, status=status).count() == 3


def test_an_endpoint_that_does_not_answer_is_retried_and_each_attempt_is_recorded(
    webhooks_on: Receiver, tasks_in_process: None, settings: Any
) -> None:
    settings.WEBHOOKS_URL = "http://127.0.0.1:9/nobody-listens"  # the discard port: connection refused

    delivery = webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD)

    assert delivery is not None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 3, None)
    errors = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status", "error"))
    assert errors == [(None, "connection failed (ConnectionError)")] * 3


def test_a_message_handed_out_twice_makes_one_request(webhooks_on: Receiver, settings: Any) -> None:
    settings.WEBHOOKS_URL = ""  # record it without the task running, then run the attempt twice by hand
    delivery = WebhookDelivery.objects.create(event_type="wallet_request.pending", payload=PAYLOAD)
    settings.WEBHOOKS_URL = webhooks_on.url

    first = webhook_delivery_attempt(delivery_pk=delivery.pk, attempt=1)
    again = webhook_delivery_attempt(delivery_pk=delivery.pk, attempt=1)

    assert (first.state, again.state) == ("delivered", "skipped")
    assert len(webhooks_on.wait_for(2, timeout=1)) == 1


def test_the_signature_is_over_the_exact_body_with_the_shared_secret(webhooks_on: Receiver, settings: Any) -> None:
    settings.WEBHOOKS_SECRET = "another-secret-" + "x" * 32
    delivery = WebhookDelivery.objects.create(event_type="wallet_request.pending", payload=PAYLOAD)

    assert webhook_delivery_attempt(delivery_pk=delivery.pk, attempt=1).state == "failed"
    (received,) = webhooks_on.wait_for(1)
    assert (received.signed, received.answered) == (False, 401)  # the receiver refused a signature it cannot check


def test_retries_back_off_exponentially_with_jitter_up_to_the_cap(settings: Any) -> None:
    settings.WEBHOOKS_BACKOFF_SECONDS = 30.0
    settings.WEBHOOKS_BACKOFF_MAX_SECONDS = 600.0

    waits = {attempt: [retry_delay_seconds(attempt) for _ in range(50)] for attempt in (1, 2, 3, 10)}

    assert all(15 <= wait <= 30 for wait in waits[1])
    assert all(30 <= wait <= 60 for wait in waits[2])
    assert all(60 <= wait <= 120 for wait in waits[3])
    assert all(300 <= wait <= 600 for wait in waits[10])
    assert len(set(waits[1])) > 1  # jitter: retries of many deliveries do not arrive together
    assert retry_delay_seconds(1, retry_after=120) == 120  # the receiver's Retry-After, within the cap
    assert retry_delay_seconds(1, retry_after=86400) == 600


def test_nothing_is_recorded_or_sent_while_no_endpoint_is_configured(receiver: Receiver, settings: Any) -> None:
    settings.WEBHOOKS_URL = ""

    assert webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD) is None
    assert not WebhookDelivery.objects.exists()


def test_plain_http_is_refused_for_an_endpoint_off_this_machine(
    webhooks_on: Receiver, tasks_in_process: None, settings: Any
) -> None:
    settings.WEBHOOKS_URL = "http://app-backend.example.com/hooks"

    delivery = webhook_event_send(event_type="wallet_request.pending", payload=PAYLOAD)

    assert delivery is not None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "WEBHOOKS_URL must be https (plain http only on this machine)"


def test_deliveries_whose_queued_attempt_never_ran_are_sent_by_the_minutely_sweep(
    webhooks_on: Receiver, tasks_in_process: None
) -> None:
    now = timezone.now()
    # Recorded while the broker was down at the commit; claimed by a worker that died before recording its attempt
    # (its lease, the task time limit, ran out); and one only a minute late, which its own message will still run.
    lost = WebhookDelivery.objects.create(event_type="wallet_request.pending", payload=PAYLOAD, next_attempt_at=now)
    abandoned = WebhookDelivery.objects.create(
        event_type="wallet_request.pending", payload=PAYLOAD, attempts=1, next_attempt_at=now
    )
    late = WebhookDelivery.objects.create(event_type="wallet_request.pending", payload=PAYLOAD, next_attempt_at=now)
    WebhookDelivery.objects.filter(pk__in=[lost.pk, abandoned.pk]).update(next_attempt_at=now - timedelta(minutes=6))
    WebhookDelivery.objects.filter(pk=late.pk).update(next_attempt_at=now - timedelta(minutes=1))

    assert webhook_deliver_due.apply().result == "2 deliveries queued again"

    received = webhooks_on.wait_for(2)
    assert {r.headers["X-Delivery-Id"] for r in received} == {str(lost.delivery_id), str(abandoned.delivery_id)}
    assert list(WebhookAttempt.objects.filter(delivery=abandoned).values_list("number", "status")) == [(1, 200)]
    assert WebhookDelivery.objects.get(pk=late.pk).attempts == 0
    assert webhook_deliver_due.apply().result == "0 deliveries queued again"
