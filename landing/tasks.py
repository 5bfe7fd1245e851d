"""Celery tasks of landing links: thin wrappers without arguments that call a service."""

from celery import shared_task

from landing import services


@shared_task(name="landing.purge_expired_access_tokens", acks_late=True)
def purge_expired_access_tokens() -> str:
    return f"{services.landing_access_tokens_purge()} expired access tokens deleted"
