"""H2/H5: the Celery configuration a payments workload needs, and the beat schedule."""

from django.conf import settings

from config.celery import app


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
