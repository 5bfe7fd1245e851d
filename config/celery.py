"""The Celery application: configured from Django settings (CELERY_* names), tasks found in each app."""

import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_failure,
    task_prerun,
    task_retry,
    task_success,
    worker_init,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs: object) -> None:
    """Workers log exactly like the web process (JSON, card numbers masked)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def _count_task(outcome: str) -> Callable[..., None]:
    def count(sender: Any = None, **kwargs: object) -> None:
        from core.metrics import CELERY_TASKS

        CELERY_TASKS.labels(task=getattr(sender, "name", "unknown"), outcome=outcome).inc()

    return count


# Connected for the life of the app (weak=False: the closures have no other reference).
task_success.connect(_count_task("succeeded"), weak=False)
task_failure.connect(_count_task("failed"), weak=False)
task_retry.connect(_count_task("retried"), weak=False)


# A message header (the worker finds it on the task's request): when the task was queued, for its queue lag.
PUBLISHED_AT_HEADER = "portal_published_at"


@before_task_publish.connect
def stamp_publication_time(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
    if headers is not None:
        headers[PUBLISHED_AT_HEADER] = time.time()  # a retry is published anew: its lag counts from then


@task_prerun.connect
def observe_queue_lag(task: Any = None, **kwargs: object) -> None:
    """How long the task waited for a worker; nothing for a task run in-process (nothing was queued)."""
    published_at = getattr(task.request, PUBLISHED_AT_HEADER, None)
    if published_at is None:
        return
    from core.metrics import CELERY_QUEUE_LAG_SECONDS

    # A countdown or ETA is a wait that was asked for, not lag.
    eta = task.request.eta
    due = max(float(published_at), datetime.fromisoformat(eta).timestamp() if eta else 0.0)
    CELERY_QUEUE_LAG_SECONDS.labels(task=task.name).observe(max(0.0, time.time() - due))


@worker_init.connect
def start_tracing(**kwargs: object) -> None:
    """Task spans, and the MDES calls inside them, when an OTLP endpoint is configured."""
    from core.tracing import tracing_configure

    tracing_configure(process="worker")
