"""What the portal told the issuer's own systems (the app backend), delivery by delivery, attempt by attempt."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.states import StatefulModel


class WebhookDelivery(StatefulModel):
    """One event sent to the configured endpoint. Every attempt carries the same delivery id (receivers
    deduplicate by it); a staff replay is a new delivery of the same event (same event id, new delivery id)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Being delivered")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    TRANSITIONS = {
        State.PENDING: frozenset({State.DELIVERED, State.FAILED}),
        State.DELIVERED: frozenset(),
        State.FAILED: frozenset(),
    }
    INITIAL_STATES = frozenset({State.PENDING})

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, help_text="The same for a replay of the event.")
    event_type = models.CharField(max_length=64)
    key = models.CharField(
        max_length=100, blank=True, help_text="What the event is about: one event of a type per key (replays aside)."
    )
    payload = models.JSONField(help_text="The event's data: no card number, no personal data beyond the app's need.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The last HTTP status answered.")
    last_error = models.CharField(max_length=200, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays", editable=False
    )
    replayed_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ("-created_at", "-id")
        permissions = [("replay_webhookdelivery", "Can replay a webhook delivery")]
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "key"],
                condition=Q(replay_of__isnull=True) & ~Q(key=""),
                name="webhook_one_event_per_key",
            )
        ]
        indexes = [models.Index(fields=["state", "event_type", "-created_at"], name="webhook_state_type_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.delivery_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, and what came of it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_records")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: no HTTP answer.")
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("number",)
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_once")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}"
