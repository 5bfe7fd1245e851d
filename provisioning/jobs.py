"""Records of background job runs, which double as a single-flight lock across processes and machines."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.states import transition_update
from provisioning.models import JobRun

# Expiry runs every minute; a week of them is plenty to see how it has been going.
KEEP_FREQUENT_RUNS = timedelta(days=7)


def job_run_start(job: str) -> JobRun:
    """A RUNNING record for this run, or a SKIPPED one if another run of `job` is under way.

    The partial unique index on running runs is the lock. A run whose worker died never finishes its record;
    past the task time limit it is marked abandoned and no longer blocks.
    """
    now = timezone.now()
    transition_update(
        JobRun.objects.filter(
            job=job, state=JobRun.State.RUNNING, started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
        ),
        JobRun.State.FAILED,
        finished_at=now,
        detail="Abandoned: the run ended without recording an end",
    )
    try:
        with transaction.atomic():
            return JobRun.objects.create(job=job)
    except IntegrityError:
        return JobRun.objects.create(
            job=job,
            state=JobRun.State.SKIPPED,
            finished_at=now,
            detail="Another run of this job is under way; this run did nothing",
        )


def job_runs_prune(job: str, *, keep: timedelta = KEEP_FREQUENT_RUNS) -> int:
    deleted, _ = (
        JobRun.objects.filter(job=job, started_at__lt=timezone.now() - keep)
        .exclude(state=JobRun.State.RUNNING)
        .delete()
    )
    return deleted
