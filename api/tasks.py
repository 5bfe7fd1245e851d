"""Celery tasks of the API: thin wrappers without arguments (nothing secret ever reaches the broker)."""

from celery import shared_task

from api.idempotency import idempotency_records_purge


@shared_task(name="api.purge_idempotency_records", acks_late=True)  # idempotent: set-based updates and deletes
def purge_idempotency_records() -> str:
    dropped, deleted = idempotency_records_purge()
    return f"{dropped} bodies dropped, {deleted} records deleted"
