"""Push receipts when they come back: matched by digest, used at most once, never after they expire.

A receipt is a bearer value for up to 15 minutes. The portal keeps only its SHA-256 digest. Using one is a single
conditional UPDATE (issued, unexpired, of this push), so two callbacks racing for it, or a callback racing the
expiry sweep, cannot both succeed: whoever changes the row first wins, the other sees why it lost.
"""

import hashlib

from django.db import models, transaction
from django.utils import timezone

from audit.services import audit_event_record
from core.states import transition_update
from provisioning.mdes.callback import ReportedResult
from provisioning.models import NetworkCheck, PushReceipt, PushRequest


class ReceiptUse(models.TextChoices):
    USED = "used", "recorded now"
    ALREADY_USED = "already_used", "recorded before (a replay)"
    EXPIRED = "expired", "expired before it came back"
    UNKNOWN = "unknown", "not a receipt of this push"


def receipt_digest(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


def _later_report(row: PushReceipt, reported: ReportedResult) -> None:
    """A later callback for a used receipt: an earlier (perhaps forged) one must not shadow it. Unless the network
    already confirmed an outcome, a report that says something new (another result, a token reference) is kept as
    the one to check."""
    reference = reported.token_unique_reference or row.token_unique_reference
    if row.network_check == NetworkCheck.CONFIRMED or (
        reported.result.value == row.reported_result and reference == row.token_unique_reference
    ):
        return
    changed = (
        PushReceipt.objects.filter(pk=row.pk)
        .exclude(network_check=NetworkCheck.CONFIRMED)
        .update(
            token_unique_reference=reference, reported_result=reported.result.value, network_check=NetworkCheck.PENDING
        )
    )
    if changed:
        row.refresh_from_db()
        audit_event_record(
            action="receipt.reported_again",
            target=row,
            after={"result": reported.result.value, "token_unique_reference": reference},
        )


def push_receipt_use(
    *, push: PushRequest, receipt: str, reported: ReportedResult
) -> tuple[ReceiptUse, PushReceipt | None]:
    """Record the token requestor's result (and token unique reference) for one receipt of `push`, if it is still
    usable. Both are unauthenticated browser input: provisioning.mdes.callback has reduced them to known values."""
    digest = receipt_digest(receipt)
    code = reported.result.value
    now = timezone.now()
    with transaction.atomic():
        used = transition_update(
            PushReceipt.objects.filter(push=push, receipt_digest=digest, expires_at__gt=now),
            PushReceipt.State.USED,
            used_at=now,
            result=code,
            reported_result=code,
            network_check=NetworkCheck.PENDING,
            token_unique_reference=reported.token_unique_reference,
        )
        row = PushReceipt.objects.filter(push=push, receipt_digest=digest).first()
        if row is None:
            return ReceiptUse.UNKNOWN, None
        if used:
            audit_event_record(
                action="receipt.used",
                target=row,
                before={"state": PushReceipt.State.ISSUED},
                after={
                    "state": PushReceipt.State.USED,
                    "result": code,
                    "token_unique_reference": reported.token_unique_reference,
                },
            )
            return ReceiptUse.USED, row
    if row.state == PushReceipt.State.USED:
        _later_report(row, reported)
        return ReceiptUse.ALREADY_USED, row
    return ReceiptUse.EXPIRED, row
