"""H3: a real Celery worker on Redis; a worker killed mid-task leaves nothing half done and nothing lost.

Needs PostgreSQL and Redis (DATABASE_URL/REDIS_URL), as in CI; skipped on the embedded default.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.db import connection, connections
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.expiry import RECEIPTS_EXPIRED
from provisioning.models import PushReceipt, PushRequest
from tests.provisioning.factories import PushFactory

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 5
BROKER = os.environ.get("REDIS_URL", "").rsplit("/", 1)[0] + "/15"  # a database of its own on the shared Redis

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")),
        reason="needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)",
    ),
]


def _worker_env() -> dict[str, str]:
    database = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        # Shorter than the visibility timeout, as in production (3600 s against 300 s): by the time a killed
        # worker's task is redelivered, its unfinished job run counts as abandoned.
        "CELERY_TASK_TIME_LIMIT": str(VISIBILITY_TIMEOUT - 1),
        "CELERY_TASK_SOFT_TIME_LIMIT": str(VISIBILITY_TIMEOUT - 2),
        "PROVISIONING_REFRESH_RETRY_BACKOFF_SECONDS": "1",
    }


def _start_worker(*, threads: int = 0) -> subprocess.Popen[bytes]:
    pool = ["--pool", "threads", "--concurrency", str(threads)] if threads else ["--pool", "solo"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", *pool, "--loglevel", "WARNING"],
        cwd=ROOT,
        env=_worker_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def producer() -> Iterator[Celery]:
    app = Celery(broker=BROKER, set_as_current=False)  # current, it would take over every shared_task after it
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()  # type: ignore[attr-defined]
    yield app
    app.close()


def _wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.25)
    return False


def _due_receipts(card: Card, count: int) -> list[PushReceipt]:
    receipts = []
    for _ in range(count):
        push = PushFactory.create(card=card, state="redirected")
        receipt = push.receipts.get()
        receipt.expires_at = timezone.now() - timedelta(minutes=1)
        receipt.save()
        receipts.append(receipt)
    return receipts


def test_worker_runs_the_expiry_task(card: Card, producer: Celery) -> None:
    _due_receipts(card, 3)
    worker = _start_worker()
    try:
        producer.send_task("provisioning.expire_push_receipts")
        assert _wait_until(lambda: not PushReceipt.objects.filter(state="issued").exists(), timeout=30)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
    assert PushRequest.objects.filter(state="expired").count() == 3


def test_a_worker_killed_mid_task_is_replaced_and_the_task_runs_once_to_completion(
    card: Card, producer: Celery
) -> None:
    _due_receipts(card, 5)
    blocker = connections.create_connection("default")  # a second session that holds the table
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE provisioning_pushreceipt IN ACCESS EXCLUSIVE MODE")
    first = _start_worker()
    second = None
    try:
        producer.send_task("provisioning.expire_push_receipts")
        # The worker has taken the task when its query waits on our lock.
        assert _wait_until(lambda: _waiting_on_lock(), timeout=30)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        blocker.rollback()
        blocker.close()
        assert PushReceipt.objects.filter(state="issued").count() == 5  # nothing half done

        # A worker starting after the visibility timeout (5 s here) takes the unacknowledged task back.
        time.sleep(VISIBILITY_TIMEOUT + 1)
        second = _start_worker()
        assert _wait_until(lambda: not PushReceipt.objects.filter(state="issued").exists(), timeout=45)
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=20)
    assert PushReceipt.objects.filter(state="expired").count() == 5
    expired_counts = AuditEvent.objects.filter(action=RECEIPTS_EXPIRED).values_list("after__count", flat=True)
    assert sum(expired_counts) == 5  # exactly once each


def _waiting_on_lock(table: str = "provisioning_pushreceipt") -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            [f"%{table}%"],
        )
        return bool(cursor.fetchone()[0])


@contextmanager
def _worker(*, threads: int = 0) -> Iterator[subprocess.Popen[bytes]]:
    worker = _start_worker(threads=threads)
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)


def test_two_refreshes_started_at_once_do_the_work_once(sandbox_network_config: object, producer: Celery) -> None:
    from provisioning.models import JobRun, TokenRequestor

    blocker = connections.create_connection("default")  # holds the requestor table so the first run stays open
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE provisioning_tokenrequestor IN ACCESS EXCLUSIVE MODE")
    with _worker(threads=2):
        producer.send_task("provisioning.refresh_token_requestors")
        producer.send_task("provisioning.refresh_token_requestors")
        assert _wait_until(lambda: JobRun.objects.filter(state="skipped").exists(), timeout=30)
        blocker.rollback()
        blocker.close()
        assert _wait_until(lambda: JobRun.objects.filter(state="succeeded").exists(), timeout=30)
    assert JobRun.objects.filter(state="succeeded").count() == 1
    assert JobRun.objects.filter(state="skipped").count() == 1
    assert TokenRequestor.objects.count() == len(set(TokenRequestor.objects.values_list("trid", flat=True))) >= 3


def test_a_refresh_interrupted_by_an_mdes_500_is_retried_and_completes(
    sandbox_network_config: object, sandbox: Any, producer: Celery
) -> None:
    from provisioning.models import JobRun, TokenRequestor

    sandbox.fail_next(500)
    with _worker():
        producer.send_task("provisioning.refresh_token_requestors")
        assert _wait_until(lambda: JobRun.objects.filter(state="succeeded").exists(), timeout=40)
    assert list(JobRun.objects.order_by("started_at").values_list("state", flat=True)) == ["failed", "succeeded"]
    assert TokenRequestor.objects.filter(logo__isnull=False).count() >= 3


def test_expiry_racing_callbacks_lets_each_receipt_end_one_way_only(card: Card, producer: Celery) -> None:
    """At the moment receipts expire, the sweep (in the worker) and callbacks (here) go for the same rows."""
    from provisioning.mdes.callback import reported_result
    from provisioning.receipts import ReceiptUse, push_receipt_use

    expiry = timezone.now() + timedelta(seconds=4)
    pushes = {}
    for number in range(30):
        value = f"MCC-RACE-{number:04d}"
        push = PushFactory.create(card=card, state="redirected", receipt=value)
        PushReceipt.objects.filter(push=push).update(expires_at=expiry)
        pushes[value] = push
    outcomes: dict[str, ReceiptUse] = {}
    with _worker():
        time.sleep(max(0.0, (expiry - timezone.now()).total_seconds() - 0.05))
        producer.send_task("provisioning.expire_push_receipts")
        for value, push in pushes.items():
            outcomes[value] = push_receipt_use(push=push, receipt=value, reported=reported_result("APPROVED"))[0]
        time.sleep(1.5)
        producer.send_task("provisioning.expire_push_receipts")
        assert _wait_until(lambda: not PushReceipt.objects.filter(state="issued").exists(), timeout=30)
    expired_counts = AuditEvent.objects.filter(action=RECEIPTS_EXPIRED).values_list("after__count", flat=True)
    for value, push in pushes.items():
        receipt = push.receipts.get()
        if outcomes[value] == ReceiptUse.USED:
            assert receipt.state == PushReceipt.State.USED
        else:
            assert outcomes[value] == ReceiptUse.EXPIRED
            assert receipt.state == PushReceipt.State.EXPIRED
    # The sweep counted exactly the receipts that expired, none that a callback used first.
    assert sum(expired_counts) == PushReceipt.objects.filter(state=PushReceipt.State.EXPIRED).count()


def test_worker_refreshes_token_requestors_from_the_sandbox(sandbox_network_config: object, producer: Celery) -> None:
    from provisioning.models import JobRun, TokenRequestor

    worker = _start_worker()
    try:
        producer.send_task("provisioning.refresh_token_requestors")
        assert _wait_until(lambda: JobRun.objects.filter(state="succeeded").exists(), timeout=30)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
    assert TokenRequestor.objects.filter(logo__isnull=False).count() >= 3
