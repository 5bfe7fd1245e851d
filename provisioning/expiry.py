"""The receipt expiry sweep: set-based, so its cost follows the number of due rows, not the table size.

Receipts past their validity become expired (one audit event per batch, with the count: an event per receipt
doubled the sweep's writes), pushes that can no longer come back are closed, and pushes whose process died before
MDES answered are failed, each push with its own audit event. Expiry is also checked whenever a receipt
is used, so the sweep is cleanup, not a guard. Safe to run twice at once: every UPDATE re-checks the state of
each row it changes, so a row another transaction holds (a receipt being used, or a second sweep's batch) is waited
for and left alone if it moved meanwhile.
"""

import json
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from core.metrics import RECEIPTS_EXPIRED as RECEIPTS_EXPIRED_COUNTER
from core.states import transition_update
from provisioning.jobs import job_run_start, job_runs_prune
from provisioning.models import JobRun, PushReceipt, PushRequest

OPEN_PUSH_STATES = (PushRequest.State.PUSHED, PushRequest.State.REDIRECTED)
# A push still STARTED this long after it began lost its process mid-call (the MDES call times out in seconds).
ABANDONED_AFTER = timedelta(minutes=10)
LIVE_RECEIPT_STATES = (PushReceipt.State.ISSUED, PushReceipt.State.USED)

RECEIPTS_EXPIRED = "receipts.expired"

# PostgreSQL: mark a batch and write its audit event in one statement. The states come from the models'
# transition maps (`_pg_states`), as `transition_update` takes them for the ORM. The outer state condition is what
# PostgreSQL checks again on a row that changed while the UPDATE waited for it; the batch is not locked first
# (FOR UPDATE SKIP LOCKED wrote every due row twice, a third of the sweep's time).
_PG_EXPIRE_RECEIPTS = """
WITH expired AS (
    UPDATE provisioning_pushreceipt SET state = %(to_state)s
    WHERE id IN (
        SELECT id FROM provisioning_pushreceipt
        WHERE state = ANY(%(from_states)s) AND expires_at <= %(now)s
        LIMIT %(batch)s
    ) AND state = ANY(%(from_states)s)
    RETURNING id
)
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, request_id)
SELECT %(now)s, 'system', %(action)s, 'success', 'provisioning.pushreceipt', '',
       %(before)s::jsonb, jsonb_build_object('state', %(to_state)s::text, 'count', count(*)), '', ''
FROM expired HAVING count(*) > 0
RETURNING (after ->> 'count')::integer
"""

_PG_FAIL_ABANDONED_PUSHES = """
WITH abandoned AS (
    UPDATE provisioning_pushrequest SET state = %(to_state)s, error_code = 'ABANDONED',
        error_description = 'The push never recorded an answer from MDES.', updated_at = %(now)s
    WHERE state = ANY(%(from_states)s) AND created_at <= %(abandoned_before)s
    RETURNING id, %(started)s::text AS previous
)
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, request_id)
SELECT %(now)s, 'system', 'push.abandoned', 'failure', 'provisioning.pushrequest', abandoned.id::text,
       jsonb_build_object('state', abandoned.previous), jsonb_build_object('state', %(to_state)s::text), '', ''
FROM abandoned
"""

_PG_CLOSE_PUSHES = """
WITH stale AS (
    SELECT p.id, p.state FROM provisioning_pushrequest p
    WHERE p.state = ANY(%(from_states)s)
      AND NOT EXISTS (
          SELECT 1 FROM provisioning_pushreceipt r WHERE r.push_id = p.id AND r.state = ANY(%(live_receipt_states)s)
      )
    FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE provisioning_pushrequest p SET state = %(to_state)s, updated_at = %(now)s
    FROM stale WHERE p.id = stale.id AND p.state = stale.state
    RETURNING p.id, stale.state AS previous
)
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, request_id)
SELECT %(now)s, 'system', 'push.expired', 'success', 'provisioning.pushrequest', closed.id::text,
       jsonb_build_object('state', closed.previous), jsonb_build_object('state', %(to_state)s::text), '', ''
FROM closed
"""


def _pg_states(model: type[PushReceipt] | type[PushRequest], target: str, *, only: str | None = None) -> dict[str, Any]:
    sources = model.states_leading_to(target)
    if only is not None:
        sources = [state for state in sources if state == only]
    return {"from_states": sources, "to_state": target}


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
    RECEIPTS_EXPIRED_COUNTER.inc(expired)
    return run.finish(state=JobRun.State.SUCCEEDED, counts={"expired": expired})


def push_receipts_expire(*, batch_size: int = 100_000) -> int:
    """Expire due receipts and close pushes without a live receipt. Returns how many receipts it expired."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        expired = _expire_receipts_postgresql(now, batch_size)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _PG_CLOSE_PUSHES,
                {
                    "now": now,
                    "live_receipt_states": list(LIVE_RECEIPT_STATES),
                    **_pg_states(PushRequest, PushRequest.State.EXPIRED),
                },
            )
            cursor.execute(
                _PG_FAIL_ABANDONED_PUSHES,
                {
                    "now": now,
                    "abandoned_before": now - ABANDONED_AFTER,
                    "started": PushRequest.State.STARTED,
                    **_pg_states(PushRequest, PushRequest.State.FAILED, only=PushRequest.State.STARTED),
                },
            )
        return expired
    return _expire_portable(now, batch_size)


def _expire_receipts_postgresql(now: datetime, batch_size: int) -> int:
    expired = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            states = _pg_states(PushReceipt, PushReceipt.State.EXPIRED)
            cursor.execute(
                _PG_EXPIRE_RECEIPTS,
                {
                    "now": now,
                    "batch": batch_size,
                    "action": RECEIPTS_EXPIRED,
                    "before": json.dumps(_batch_before(states["from_states"])),
                    **states,
                },
            )
            row = cursor.fetchone()
            done = row[0] if row else 0
        expired += done
        if done < batch_size:
            return expired


def _expire_portable(now: datetime, batch_size: int) -> int:
    """The same marking with the ORM, for the embedded SQLite set-up (a few statements per batch)."""
    expired = 0
    while True:
        with transaction.atomic():
            due = PushReceipt.objects.filter(state=PushReceipt.State.ISSUED, expires_at__lte=now).order_by("expires_at")
            done = transition_update(
                PushReceipt.objects.filter(pk__in=due.values("id")[:batch_size]), PushReceipt.State.EXPIRED
            )
            if not done:
                break
            expired += done
            AuditEvent.objects.create(
                actor_label="system",
                action=RECEIPTS_EXPIRED,
                object_type="provisioning.pushreceipt",
                before=_batch_before(PushReceipt.states_leading_to(PushReceipt.State.EXPIRED)),
                after={"state": PushReceipt.State.EXPIRED, "count": done},
                occurred_at=now,
            )
            if done < batch_size:
                break
    with transaction.atomic():
        stale = list(
            PushRequest.objects.filter(state__in=OPEN_PUSH_STATES)
            .exclude(receipts__state__in=LIVE_RECEIPT_STATES)
            .values_list("id", "state")
        )
        transition_update(
            PushRequest.objects.filter(id__in=[pk for pk, _ in stale], state__in=OPEN_PUSH_STATES),
            PushRequest.State.EXPIRED,
            updated_at=now,
        )
        AuditEvent.objects.bulk_create(
            _system_event("push.expired", "provisioning.pushrequest", pk, state, now) for pk, state in stale
        )
        abandoned = list(
            PushRequest.objects.filter(
                state=PushRequest.State.STARTED, created_at__lte=now - ABANDONED_AFTER
            ).values_list("id", flat=True)
        )
        transition_update(
            PushRequest.objects.filter(id__in=abandoned, state=PushRequest.State.STARTED),
            PushRequest.State.FAILED,
            error_code="ABANDONED",
            error_description="The push never recorded an answer from MDES.",
            updated_at=now,
        )
        AuditEvent.objects.bulk_create(
            _system_event("push.abandoned", "provisioning.pushrequest", pk, PushRequest.State.STARTED, now, "failed")
            for pk in abandoned
        )
    return expired


def _batch_before(states: list[str]) -> dict[str, Any]:
    return {"state": states[0]} if len(states) == 1 else {"states": states}


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
