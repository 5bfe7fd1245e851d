"""H2/H5: the Celery configuration a payments workload needs, the beat schedule, and the queue lag figure."""

import threading
import time
from collections.abc import Iterator

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from tests.https_client import HttpsClient
from tests.metrics import moved, scrape


def test_tasks_are_acknowledged_late_one_at_a_time_and_json_only() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_soft_time_limit
    assert conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    # Redis redelivers an unacknowledged task after the visibility timeout: it must outlast the longest task.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_receipt_expiry_sweeps_at_least_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["expire-push-receipts"]
    assert entry["task"] == "provisioning.expire_push_receipts"
    assert isinstance(entry["schedule"], float)
    assert entry["schedule"] <= 60


def test_periodic_job_runner_runs_the_schedule_in_process(db, capsys) -> None:
    from django.core.management import call_command

    call_command("run_periodic_jobs", "--once")
    assert "expire-push-receipts: succeeded: 0 expired" in capsys.readouterr().out


@pytest.fixture
def memory_broker_app() -> Iterator[Celery]:
    """A Celery app on kombu's in-memory broker, for a worker in a thread; the portal's app current again after."""
    # Without the Django fixup: this worker runs no portal task and must not touch the database.
    memory = Celery("queue-lag-test", broker="memory://", set_as_current=False, fixups=[])
    memory.conf.task_default_queue = "queue-lag-test"
    yield memory
    app.set_current()
    app.set_default()
    memory.close()


def test_a_task_s_wait_in_the_queue_is_observed_when_a_worker_starts_it(memory_broker_app: Celery) -> None:
    started = threading.Event()

    @memory_broker_app.task(name="tests.waits_in_the_queue")
    def waits_in_the_queue() -> None:
        started.set()

    client = HttpsClient()
    _, before = scrape(client)
    waits_in_the_queue.delay()  # no worker yet: the message waits
    time.sleep(0.5)
    with start_worker(memory_broker_app, pool="solo", perform_ping_check=False):
        assert started.wait(timeout=10)
    _, after = scrape(client)

    lag = "portal_celery_queue_lag_seconds"
    assert moved(before, after, f"{lag}_count", task="tests.waits_in_the_queue") == 1
    assert 0.5 <= moved(before, after, f"{lag}_sum", task="tests.waits_in_the_queue") < 10
    assert moved(before, after, f"{lag}_bucket", task="tests.waits_in_the_queue", le="0.25") == 0


def test_a_countdown_is_a_wait_asked_for_not_lag(memory_broker_app: Celery) -> None:
    started = threading.Event()

    @memory_broker_app.task(name="tests.runs_later")
    def runs_later() -> None:
        started.set()

    client = HttpsClient()
    _, before = scrape(client)
    with start_worker(memory_broker_app, pool="solo", perform_ping_check=False):
        published = time.monotonic()
        runs_later.apply_async(countdown=1.5)
        assert started.wait(timeout=10)
        assert time.monotonic() - published >= 1.5
    _, after = scrape(client)

    lag = "portal_celery_queue_lag_seconds"
    assert moved(before, after, f"{lag}_count", task="tests.runs_later") == 1
    assert moved(before, after, f"{lag}_sum", task="tests.runs_later") < 1


def test_a_task_run_in_process_has_no_queue_lag(memory_broker_app: Celery) -> None:
    @memory_broker_app.task(name="tests.runs_in_process")
    def runs_in_process() -> None:
        pass

    client = HttpsClient()
    _, before = scrape(client)
    runs_in_process.apply()  # what CELERY_TASK_ALWAYS_EAGER does on the embedded default
    _, after = scrape(client)
    assert moved(before, after, "portal_celery_queue_lag_seconds_count", task="tests.runs_in_process") == 0
