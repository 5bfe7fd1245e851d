"""Write use cases of push provisioning."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from provisioning.models import PushReceipt, PushRequest


def push_receipts_expire(*, batch_size: int = 10_000) -> int:
    """Mark issued receipts past their expiry as expired, and close pushes that can no longer come back.

    Set-based: one UPDATE per batch through the partial index on issued receipts' expiry, so the cost follows
    the number of due rows. Safe to run twice at once (the UPDATE re-checks the state). Returns how many
    receipts it expired. Expiry is also checked whenever a receipt is used, so this is cleanup, not a guard.
    """
    now = timezone.now()
    expired_total = 0
    while True:
        with transaction.atomic():
            due_ids = list(
                PushReceipt.objects.filter(state=PushReceipt.State.ISSUED, expires_at__lte=now)
                .order_by()
                .values_list("id", flat=True)[:batch_size]
            )
            if not due_ids:
                break
            expired = PushReceipt.objects.filter(id__in=due_ids, state=PushReceipt.State.ISSUED).update(
                state=PushReceipt.State.EXPIRED
            )
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    actor_label="system",
                    action="receipt.expired",
                    object_type="provisioning.pushreceipt",
                    object_id=str(receipt_id),
                    before={"state": PushReceipt.State.ISSUED},
                    after={"state": PushReceipt.State.EXPIRED},
                    occurred_at=now,
                )
                for receipt_id in due_ids
            )
            expired_total += expired
    _close_pushes_without_live_receipts(now)
    return expired_total


def _close_pushes_without_live_receipts(now: datetime) -> None:
    open_states = [PushRequest.State.PUSHED, PushRequest.State.REDIRECTED]
    live = Q(receipts__state__in=[PushReceipt.State.ISSUED, PushReceipt.State.USED])
    with transaction.atomic():
        stale = PushRequest.objects.filter(state__in=open_states).exclude(live).order_by()
        stale_rows = list(stale.values_list("id", "state"))
        if not stale_rows:
            return
        PushRequest.objects.filter(id__in=[pk for pk, _ in stale_rows], state__in=open_states).update(
            state=PushRequest.State.EXPIRED, updated_at=now
        )
        AuditEvent.objects.bulk_create(
            AuditEvent(
                actor_label="system",
                action="push.expired",
                object_type="provisioning.pushrequest",
                object_id=str(pk),
                before={"state": state},
                after={"state": PushRequest.State.EXPIRED},
                occurred_at=now,
            )
            for pk, state in stale_rows
        )
