"""Tasks are thin, retry only what is worth retrying, and the hourly check refreshes only when due."""

from typing import Any

import pytest

from provisioning import tasks
from provisioning.mdes.errors import MdesUnavailable
from provisioning.models import JobRun, NetworkConfiguration


def test_refresh_retries_only_when_mdes_is_unavailable_with_backoff_and_jitter() -> None:
    task: Any = tasks.refresh_token_requestors  # Celery sets these options on the task class at run time
    assert task.autoretry_for == (MdesUnavailable,)
    assert task.retry_backoff
    assert task.retry_jitter is True
    assert task.max_retries == 5
    assert task.acks_late is True


@pytest.mark.django_db
def test_hourly_check_refreshes_once_then_waits_for_the_interval(
    sandbox_network_config: NetworkConfiguration, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        assert tasks.refresh_token_requestors_if_due.apply().result is True
        assert tasks.refresh_token_requestors_if_due.apply().result is False
    finally:
        app.conf.task_always_eager = not app.conf.broker_url
    assert JobRun.objects.filter(state=JobRun.State.SUCCEEDED).count() == 1
