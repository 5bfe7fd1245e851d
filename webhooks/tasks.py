"""The webhook tasks: one attempt per run, the next one scheduled by Celery's retry with the service's backoff; and the
sweep of deliveries whose queued attempt never ran."""

from typing import Any

from celery import shared_task

from webhooks.services import webhook_deliveries_due, webhook_delivery_attempt


@shared_task(bind=True, name="webhooks.deliver", acks_late=True, max_retries=None)  # the service counts attempts
def webhook_deliver(self: Any, delivery_pk: int, attempt: int) -> str:
    while True:
        result = webhook_delivery_attempt(delivery_pk=delivery_pk, attempt=attempt)
        if result.retry_in_seconds is None:
            return result.state
        if not self.request.is_eager:
            raise self.retry(
                kwargs={"delivery_pk": delivery_pk, "attempt": attempt + 1}, countdown=result.retry_in_seconds
            )
        # In-process (the embedded default, no broker) nothing would run a retry scheduled for later: the next
        # attempt follows at once.
        attempt += 1


@shared_task(name="webhooks.deliver_due", acks_late=True)
def webhook_deliver_due() -> str:
    """Every minute (beat): deliveries whose queued attempt never ran."""
    return f"{webhook_deliveries_due()} deliveries queued again"
