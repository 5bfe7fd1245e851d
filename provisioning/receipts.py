"""Push receipts when they come back: matched by digest, used at most once, never after they expire.

A receipt is a bearer value for up to 15 minutes. The portal keeps only its SHA-256 digest. Using one is a single
conditional UPDATE (issued, unexpired, of this push), so two callbacks racing for it, or a callback racing the
expiry sweep, cannot both succeed: whoever changes the row first wins, the other sees why it lost.
"""

import hashlib
from collections.abc import Iterable

from django.db import models, transaction
from django.utils import timezone

from audit.services import audit_event_record
from provisioning.models import PushReceipt, PushRequest
from provisioning.selectors import MAX_CARDS_PER_PUSH

# MDES issues a receipt as a 3-character product prefix and a UUID (40 characters) and names no maximum; nothing
# much longer is one of its receipts.
RECEIPT_MAX_LENGTH = 128
_RESULTS_KEY = ("results[", "]")


class ReceiptUse(models.TextChoices):
    USED = "used", "Result recorded"
    ALREADY_USED = "already_used", "Already returned"
    EXPIRED = "expired", "Expired"
    UNKNOWN = "unknown", "Not a receipt of this push"


class CallbackResultsError(ValueError):
    """A callback no token requestor sends: more results than a push has receipts, or a receipt too long."""


def callback_results(parameters: Iterable[tuple[str, object]]) -> dict[str, str]:
    """The token requestor's `results[<receipt>]=<code>` query parameters as {receipt: result}, unknown result codes
    as UNKNOWN. Raises CallbackResultsError rather than take in more than one push can bring back."""
    results: dict[str, str] = {}
    opening, closing = _RESULTS_KEY
    for key, value in parameters:
        if not (key.startswith(opening) and key.endswith(closing)):
            continue
        receipt = key[len(opening) : -len(closing)]
        if not receipt or len(receipt) > RECEIPT_MAX_LENGTH:
            raise CallbackResultsError("A receipt in the callback is empty or longer than any MDES issues")
        code = str(value)
        results[receipt] = code if code in PushReceipt.Result.values else PushReceipt.Result.UNKNOWN
        if len(results) > MAX_CARDS_PER_PUSH:
            raise CallbackResultsError(f"The callback carries more than {MAX_CARDS_PER_PUSH} results")
    return results


def receipt_digest(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


def push_receipt_use(*, push: PushRequest, receipt: str, result: str) -> tuple[ReceiptUse, PushReceipt | None]:
    """Record the token requestor's result for one receipt of `push`, if it is still usable.

    Unknown result codes are kept as UNKNOWN: the callback is unauthenticated browser input.
    """
    digest = receipt_digest(receipt)
    code = result if result in PushReceipt.Result.values else PushReceipt.Result.UNKNOWN
    now = timezone.now()
    with transaction.atomic():
        used = PushReceipt.objects.filter(
            push=push, receipt_digest=digest, state=PushReceipt.State.ISSUED, expires_at__gt=now
        ).update(state=PushReceipt.State.USED, used_at=now, result=code)
        row = PushReceipt.objects.filter(push=push, receipt_digest=digest).first()
        if row is None:
            return ReceiptUse.UNKNOWN, None
        if used:
            audit_event_record(
                action="receipt.used",
                target=row,
                before={"state": PushReceipt.State.ISSUED},
                after={"state": PushReceipt.State.USED, "result": code},
            )
            return ReceiptUse.USED, row
    if row.state == PushReceipt.State.USED:
        return ReceiptUse.ALREADY_USED, row
    return ReceiptUse.EXPIRED, row
