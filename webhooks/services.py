"""Telling the issuer's own systems (the app backend) of events, reliably: record, send, retry, replay.

`webhook_event_send` records a delivery and enqueues its first attempt once the caller's transaction commits.
Each attempt (`webhook_delivery_attempt`, run by the `webhooks.deliver` task) claims its number with one
conditional UPDATE, so a message Redis hands out twice makes one request; it is recorded with its status and
duration. 2xx delivers; a network error, a timeout, 408, 429 or a 5xx is retried with exponential backoff and
jitter until WEBHOOKS_MAX_ATTEMPTS; any other answer fails the delivery at once. A replay by staff is a new delivery
of the same event: the same event id and body, a new delivery id (receivers deduplicate retries by delivery id,
so the one they lost or mishandled arrives anew).
"""

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.metrics import WEBHOOK_ATTEMPTS
from webhooks.client import WebhookAnswer, WebhookClient, WebhookConfigurationError
from webhooks.models import WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 429})
OVERDUE_SECONDS = 300
OVERDUE_BATCH = 500
_jitter = secrets.SystemRandom()


class WebhookReplayError(Exception):
    pass


def webhooks_enabled() -> bool:
    return bool(settings.WEBHOOKS_URL)


def webhook_event_send(*, event_type: str, payload: dict[str, Any], key: str = "") -> WebhookDelivery | None:
    """Record the event and send it after the current transaction commits. Off (None) without WEBHOOKS_URL; None
    too when an event of this type about `key` was recorded before (one event per request, however often MDES asks)."""
    if not webhooks_enabled():
        return None
    if key and WebhookDelivery.objects.filter(event_type=event_type, key=key, replay_of__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                event_type=event_type, key=key, payload=payload, next_attempt_at=timezone.now()
            )
    except IntegrityError:
        return None  # a concurrent call recorded the same event first
    _enqueue(delivery)
    return delivery


def _enqueue(delivery: WebhookDelivery) -> None:
    from webhooks.tasks import webhook_deliver

    pk = delivery.pk
    # robust: a broker that is down must not fail the change that caused the event (MDES's call, a staff action);
    # the delivery stays due and the sweep queues it again.
    transaction.on_commit(lambda: webhook_deliver.delay(delivery_pk=pk, attempt=1), robust=True)


def webhook_deliveries_due() -> int:
    """Queue again the deliveries whose attempt is overdue by OVERDUE_SECONDS (the broker was down when the change
    committed, or lost the message); a message that was only late then finds its attempt taken and does nothing."""
    from webhooks.tasks import webhook_deliver

    recorded = WebhookAttempt.objects.filter(delivery=OuterRef("pk"), number=OuterRef("attempts"))
    due = (
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=timezone.now() - timedelta(seconds=OVERDUE_SECONDS),
        )
        .annotate(last_recorded=Exists(recorded))
        .order_by("next_attempt_at")
        .values_list("pk", "attempts", "last_recorded")[:OVERDUE_BATCH]
    )
    for pk, attempts, last_recorded in due:
        # The next attempt, or the one a worker claimed and died in before recording it.
        webhook_deliver.delay(delivery_pk=pk, attempt=attempts + 1 if last_recorded or not attempts else attempts)
    return len(due)


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The bytes sent (and signed): the same for every attempt and every replay of the event."""
    event = {
        "id": str(delivery.event_id),
        "type": delivery.event_type,
        "created_at": _event_created_at(delivery).isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _event_created_at(delivery: WebhookDelivery) -> datetime:
    original = delivery.replay_of
    return original.created_at if original is not None else delivery.created_at


def retry_delay_seconds(attempt: int, retry_after: float | None = None) -> float:
    """The wait after attempt `attempt` failed: base * 2^(attempt-1), capped, with jitter (half to all of it);
    never less than a Retry-After the receiver asked for, within the cap."""
    ceiling = min(settings.WEBHOOKS_BACKOFF_MAX_SECONDS, settings.WEBHOOKS_BACKOFF_SECONDS * 2 ** (attempt - 1))
    delay = _jitter.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.WEBHOOKS_BACKOFF_MAX_SECONDS))
    return delay


@dataclass(frozen=True)
class AttemptResult:
    state: str
    retry_in_seconds: float | None = None  # set when another attempt is due


def _claimed(delivery_pk: int, attempt: int) -> bool:
    """Take attempt number `attempt` of a pending delivery: the next one, or one whose worker died before recording
    it (its lease, the task time limit, ran out). A duplicate message finds it taken and does nothing."""
    now = timezone.now()
    recorded = WebhookAttempt.objects.filter(delivery=OuterRef("pk"), number=attempt)
    abandoned = Q(attempts=attempt, next_attempt_at__lte=now) & ~Exists(recorded)
    taken = WebhookDelivery.objects.filter(
        Q(attempts=attempt - 1) | abandoned,
        pk=delivery_pk,
        state=WebhookDelivery.State.PENDING,
    ).update(attempts=attempt, next_attempt_at=now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT))
    return taken == 1


def _retryable(answer: WebhookAnswer) -> bool:
    return answer.status is None or answer.status >= 500 or answer.status in RETRYABLE_STATUSES


def webhook_delivery_attempt(*, delivery_pk: int, attempt: int) -> AttemptResult:
    if not _claimed(delivery_pk, attempt):
        return AttemptResult(state="skipped")
    delivery = WebhookDelivery.objects.select_related("replay_of").get(pk=delivery_pk)
    attempted_at = timezone.now()
    try:
        client = WebhookClient.from_settings()
    except WebhookConfigurationError as exc:
        answer = WebhookAnswer(None, 0, str(exc)[:200])
        final = True
    else:
        answer = client.post(
            delivery_id=str(delivery.delivery_id),
            event_id=str(delivery.event_id),
            event_type=delivery.event_type,
            body=webhook_body(delivery),
        )
        final = not _retryable(answer) or attempt >= settings.WEBHOOKS_MAX_ATTEMPTS
    delivered = answer.status is not None and 200 <= answer.status < 300
    retry_in = None if delivered or final else retry_delay_seconds(attempt, answer.retry_after_seconds)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=attempt,
            attempted_at=attempted_at,
            status=answer.status,
            duration_ms=answer.duration_ms,
            error=answer.error[:200],
        )
        delivery.last_status = answer.status
        delivery.last_error = answer.error[:200]
        if delivered:
            delivery.transition_to(WebhookDelivery.State.DELIVERED)
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif retry_in is None:
            delivery.transition_to(WebhookDelivery.State.FAILED)
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
        delivery.save(update_fields=["state", "last_status", "last_error", "delivered_at", "next_attempt_at"])
    outcome = "delivered" if delivered else "will_retry" if retry_in is not None else "failed"
    WEBHOOK_ATTEMPTS.labels(event_type=delivery.event_type, outcome=outcome).inc()
    logger.log(
        logging.INFO if delivered else logging.WARNING,
        "Webhook %s",
        outcome.replace("_", " "),
        extra={
            "delivery_id": str(delivery.delivery_id),
            "event_type": delivery.event_type,
            "attempt": attempt,
            "status": answer.status,
            "duration_ms": answer.duration_ms,
            "error": answer.error,
            "retry_in_seconds": round(retry_in, 1) if retry_in is not None else None,
        },
    )
    return AttemptResult(state=delivery.state, retry_in_seconds=retry_in)


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor: Any) -> WebhookDelivery:
    """Send a finished delivery's event again, as a new delivery (see the module's docstring); audited."""
    problem = ""
    if not webhooks_enabled():
        problem = _("Webhooks are off (WEBHOOKS_URL is not set): nothing can be sent.")
    elif delivery.state == WebhookDelivery.State.PENDING:
        problem = _("This delivery is still being attempted; replay it once it has been delivered or has failed.")
    if problem:
        audit_event_record(
            action="webhook.replay_refused",
            actor=actor,
            target=delivery,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=problem,
        )
        raise WebhookReplayError(problem)
    original = delivery.replay_of or delivery
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            key=delivery.key,
            payload=delivery.payload,
            replay_of=original,
            replayed_by_label=str(actor)[:254],
            next_attempt_at=timezone.now(),
        )
        audit_event_record(
            action="webhook.replayed",
            actor=actor,
            target=replay,
            after={
                "event_type": delivery.event_type,
                "event_id": str(delivery.event_id),
                "delivery_id": str(replay.delivery_id),
                "replay_of": str(delivery.delivery_id),
            },
        )
        _enqueue(replay)
    return replay
