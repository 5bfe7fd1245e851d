"""Celery tasks of push provisioning: thin wrappers that take ids (or nothing) and call a service.

Retries with backoff and jitter happen here, only for errors worth retrying (MDES unavailable); every attempt
leaves its own JobRun record, so a final failure is on record too.
"""

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings

from cardholders.models import Card
from provisioning import activation, expiry, network_check, refresh, tokens
from provisioning.mdes.errors import MdesError, MdesUnavailable


@shared_task(name="provisioning.expire_push_receipts", acks_late=True)
def expire_push_receipts() -> str:
    run = expiry.expiry_run()
    return f"{run.state}: {run.counts.get('expired', 0)} expired"


@shared_task(
    base=DjangoTask,  # delay_on_commit: staff's "Refresh now" enqueues only once its request committed
    name="provisioning.refresh_token_requestors",
    acks_late=True,  # idempotent: upserts by TRID, single-flight by lock
    autoretry_for=(MdesUnavailable,),
    retry_backoff=settings.PROVISIONING_REFRESH_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=5,
)
def refresh_token_requestors() -> str:
    return str(refresh.token_requestors_refresh().state)


@shared_task(name="provisioning.refresh_token_requestors_if_due", acks_late=True)
def refresh_token_requestors_if_due() -> bool:
    """Run by beat every hour; refreshes when the staff-configured interval has passed since the last good run."""
    if refresh.refresh_due():
        refresh_token_requestors.delay()
        return True
    return False


@shared_task(name="provisioning.check_push_outcomes", acks_late=True)
def check_push_outcomes() -> str:
    """Every minute: ask the network again about outcomes it could not confirm at the callback, then finish the
    streamlined activations the callback could not (provisioning/activation.py)."""
    checked = network_check.receipt_network_checks_due()
    return f"{checked} outcomes checked, {activation.streamlined_activations_due()} activations retried"


@shared_task(
    base=DjangoTask,  # delay_on_commit: "Check again" enqueues once its request committed
    name="provisioning.refresh_card_tokens",
    acks_late=True,  # idempotent: the network's answer replaces the records
    autoretry_for=(MdesUnavailable,),
    retry_backoff=60,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=5,
)
def refresh_card_tokens(card_id: int) -> str:
    card = Card.objects.filter(pk=card_id).first()
    if card is None:
        return "no such card"
    check = tokens.card_tokens_refresh(card)
    return f"checked at {check.checked_at:%Y-%m-%dT%H:%M:%S}"


@shared_task(name="provisioning.refresh_card_tokens_due", acks_late=True)
def refresh_card_tokens_due() -> str:
    """Every ten minutes: the cards whose tokens the network described longest ago (bounded per run); a card the
    network cannot answer for keeps its failure on record and comes round again at the next interval."""
    cards = tokens.cards_due_for_token_refresh()
    failed = 0
    for card in cards:
        try:
            tokens.card_tokens_refresh(card)
        except MdesError:
            failed += 1
    return f"{len(cards) - failed} cards refreshed, {failed} failed"
