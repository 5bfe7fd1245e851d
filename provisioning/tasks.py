"""Celery tasks of push provisioning: thin wrappers that take ids (or nothing) and call a service."""

from celery import shared_task

from provisioning import expiry


@shared_task(name="provisioning.expire_push_receipts", acks_late=True)
def expire_push_receipts() -> int:
    return expiry.push_receipts_expire()
