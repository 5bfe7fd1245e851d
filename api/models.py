"""The API's own records: program managers' keys, app tokens' push rights, and the answers kept for
Idempotency-Key replays."""

from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class ProgramApiKey(AbstractAPIKey):
    """A program manager's service credential (`Authorization: Api-Key <key>`), scoped to one program's cards.

    Only a hash of the key is stored; staff see the key once, when they create it in the admin.
    """

    program = models.ForeignKey("cardholders.Program", on_delete=models.PROTECT, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "program API key"
        verbose_name_plural = "program API keys"


class AppTokenGrant(models.Model):
    """What an app token (knox) may do beyond reading: push as the browser's step-up it was minted after allows
    (for that proof's lifetime), and end when the browser session that minted it signs out (api.services)."""

    token = models.OneToOneField("knox.AuthToken", on_delete=models.CASCADE, primary_key=True, related_name="grant")
    session_ref = models.CharField(max_length=64, db_index=True, help_text="The minting browser session's id.")
    step_up_at = models.DateTimeField(help_text="When the step-up the token was minted after was passed.")

    def __str__(self) -> str:
        return f"push rights of {self.token_id[:8]}…"


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, kept so that a retry gets the same answer.

    Claimed by INSERT (the unique constraint is the lock), completed with the response. The body is sealed
    (AES-GCM) because it may hold bearer values (receipts, a landing link, a token); it is dropped once
    `body_expires_at` passes, and the whole record is ignored after the replay window (24 hours).
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"

    credential = models.CharField(max_length=80, help_text='"knox:<digest prefix>", "apikey:<prefix>", "user:<pk>".')
    key = models.CharField(max_length=64)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True, editable=False, help_text="Sealed JSON.")
    body_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential", "key"], name="one_idempotency_record_per_key"),
        ]
        indexes = [
            models.Index(
                fields=["body_expires_at"], condition=models.Q(response_body__isnull=False), name="idem_body_expiry_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credential} {self.key} ({self.state})"
