"""The receipt expiry sweep: set-based, so its cost follows the number of due rows, not the table size.

Receipts past their validity become expired, pushes that can no longer come back are closed, and pushes whose
process died before MDES answered are failed, each with an audit event. Expiry is also checked whenever a receipt
is used, so the sweep is cleanup, not a guard. Safe to run twice at once: every UPDATE re-checks the state, and
PostgreSQL's SKIP LOCKED keeps two sweeps off the same rows.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from provisioning.jobs import job_run_start, job_runs_prune
from provisioning.models import JobRun, PushReceipt, PushRequest

OPEN_PUSH_STATES = (PushRequest.State.PUSHED, PushRequest.State.REDIRECTED)
# A push still STARTED this long after it began lost its process mid-call (the MDES call times out in seconds).
ABANDONED_AFTER = timedelta(minutes=10)
LIVE_RECEIPT_STATES = (PushReceipt.State.ISSUED, PushReceipt.State.USED)

# PostgreSQL: mark a batch and write its audit events in one statement.
_PG_EXPIRE_RECEIPTS = """
WITH due AS (
    SELECT id FROM provisioning_pushreceipt
    WHERE state = 'issued' AND expires_at <= %(now)s
    LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE provisioning_pushreceipt r SET state = 'expired'
    FROM due WHERE r.id = due.id AND r.state = 'issued'
    RETURNING r.id
)
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, request_id)
SELECT %(now)s, 'system', 'receipt.expired', 'success', 'provisioning.pushreceipt', expired.id::text,
       '{"state": "issued"}'::jsonb, '{"state": "expired"}'::jsonb, '', ''
FROM expired
"""

_PG_FAIL_ABANDONED_PUSHES = """
WITH abandoned AS (
    UPDATE provisioning_pushrequest SET state = 'failed', error_code = 'ABANDONED',
        error_description = 'The push never recorded an answer from MDES.', updated_at = %(now)s
    WHERE state = 'started' AND created_at <= %(abandoned_before)s
    RETURNING id
)
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, request_id)
SELECT %(now)s, 'system', 'push.abandoned', 'failure', 'provisioning.pushrequest', abandoned.id::text,
       '{"state": "started"}'::jsonb, '{"state": "failed"}'::jsonb, '', ''
FROM abandoned
"""

_PG_CLOSE_PUSHES = """
WITH stale AS (
    SELECT p.id, p.state FROM provisioning_pushrequest p
    WHERE p.state IN ('pushed', 'redirected')
      AND NOT EXISTS (SELECT 1 FROM provisioning_pushreceipt r WHERE r.push_id = p.id AND r.state IN ('issued', 'used'))
    FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE provisioning_pushrequest p SET state = 'expired', updated_at = %(now)s
    FROM stale WHERE p.id = stale.id AND p.state = stale.state
    RETURNING p.id, stale.state AS previous
)
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, request_id)
SELECT %(now)s, 'system', 'push.expired', 'success', 'provisioning.pushrequest', closed.id::text,
       jsonb_build_object('state', closed.previous), '{"state": "expired"}'::jsonb, '', ''
FROM closed
"""


EXPIRY_JOB = "expire_push_receipts"


def expiry_run() -> JobRun:
    """One recorded sweep (what the periodic task runs); old records of the minutely sweep are pruned."""
    run = job_run_start(EXPIRY_JOB)
    if run.state == JobRun.State.SKIPPED:
        return run
    try:
        expired = push_receipts_expire()
    except Exception as exc:
        run.finish(state=JobRun.State.FAILED, detail=f"{type(exc).__name__}: {exc}")
        raise
    job_runs_prune(EXPIRY_JOB)
    return run.finish(state=JobRun.State.SUCCEEDED, counts={"expired": expired})


def push_receipts_expire(*, batch_size: int = 100_000) -> int:
    """Expire due receipts and close pushes without a live receipt. Returns how many receipts it expired."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        expired = _expire_receipts_postgresql(now, batch_size)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PG_CLOSE_PUSHES, {"now": now})
            cursor.execute(_PG_FAIL_ABANDONED_PUSHES, {"now": now, "abandoned_before": now - ABANDONED_AFTER})
        return expired
    return _expire_portable(now, batch_size)


def _expire_receipts_postgresql(now: datetime, batch_size: int) -> int:
    expired = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PG_EXPIRE_RECEIPTS, {"now": now, "batch": batch_size})
            done = cursor.rowcount
        expired += done
        if done < batch_size:
            return expired


def _expire_portable(now: datetime, batch_size: int) -> int:
    """The same marking with the ORM, for the embedded SQLite set-up (a few statements per batch)."""
    expired = 0
    while True:
        with transaction.atomic():
            due_ids = list(
                PushReceipt.objects.filter(state=PushReceipt.State.ISSUED, expires_at__lte=now)
                .order_by("expires_at")
                .values_list("id", flat=True)[:batch_size]
            )
            if not due_ids:
                break
            # Row by row, so that only rows this sweep changed get an audit event (the embedded set-up is small).
            changed = [
                pk
                for pk in due_ids
                if PushReceipt.objects.filter(pk=pk, state=PushReceipt.State.ISSUED).update(
                    state=PushReceipt.State.EXPIRED
                )
            ]
            expired += len(changed)
            AuditEvent.objects.bulk_create(
                _system_event("receipt.expired", "provisioning.pushreceipt", pk, PushReceipt.State.ISSUED, now)
                for pk in changed
            )
    with transaction.atomic():
        stale = list(
            PushRequest.objects.filter(state__in=OPEN_PUSH_STATES)
            .exclude(receipts__state__in=LIVE_RECEIPT_STATES)
            .values_list("id", "state")
        )
        PushRequest.objects.filter(id__in=[pk for pk, _ in stale], state__in=OPEN_PUSH_STATES).update(
            state=PushRequest.State.EXPIRED, updated_at=now
        )
        AuditEvent.objects.bulk_create(
            _system_event("push.expired", "provisioning.pushrequest", pk, state, now) for pk, state in stale
        )
        abandoned = list(
            PushRequest.objects.filter(
                state=PushRequest.State.STARTED, created_at__lte=now - ABANDONED_AFTER
            ).values_list("id", flat=True)
        )
        PushRequest.objects.filter(id__in=abandoned, state=PushRequest.State.STARTED).update(
            state=PushRequest.State.FAILED,
            error_code="ABANDONED",
            error_description="The push never recorded an answer from MDES.",
            updated_at=now,
        )
        AuditEvent.objects.bulk_create(
            _system_event("push.abandoned", "provisioning.pushrequest", pk, PushRequest.State.STARTED, now, "failed")
            for pk in abandoned
        )
    return expired


def _system_event(
    action: str, object_type: str, pk: int, before: str, now: datetime, after: str = "expired"
) -> AuditEvent:
    return AuditEvent(
        actor_label="system",
        action=action,
        outcome=AuditEvent.Outcome.FAILURE if after == "failed" else AuditEvent.Outcome.SUCCESS,
        object_type=object_type,
        object_id=str(pk),
        before={"state": before},
        after={"state": after},
        occurred_at=now,
    )
