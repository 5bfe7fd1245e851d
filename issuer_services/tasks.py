"""Celery tasks of the issuer services: thin wrappers that take ids (or nothing) and call a service."""

from celery import shared_task

from issuer_services import token_alerts


@shared_task(name="issuer_services.send_token_alert", acks_late=True)
def send_token_alert(alert_id: int) -> str:
    """Right after the notification that raised it; a failure is retried by the sweep (the alert's own backoff)."""
    return token_alerts.token_alert_send(alert_id)


@shared_task(name="issuer_services.send_token_alerts_due", acks_late=True)
def send_token_alerts_due() -> str:
    """Every minute: "Was this you?" messages the task after the notification did not send."""
    return f"{token_alerts.token_alerts_send_due()} alerts tried"
