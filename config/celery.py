"""The Celery application: configured from Django settings (CELERY_* names), tasks found in each app."""

import os
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_failure, task_retry, task_success, worker_init

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


@worker_init.connect
def start_tracing(**kwargs: object) -> None:
    """Task spans, and the MDES calls inside them, when an OTLP endpoint is configured."""
    from core.tracing import tracing_configure

    tracing_configure(process="worker")
