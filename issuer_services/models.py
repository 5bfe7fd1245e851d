"""What MDES asked the portal and what it answered: the tokenization decisions, their rules, activation codes."""

import uuid
from typing import Self

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.one_time_codes import OneTimeCode
from core.states import StatefulModel

_SCORE = [MinValueValidator(0), MaxValueValidator(6)]


class Decision(models.TextChoices):
    APPROVED = "APPROVED", _("Approved")
    REQUIRE_ADDITIONAL_AUTHENTICATION = "REQUIRE_ADDITIONAL_AUTHENTICATION", _("Needs the cardholder's proof")
    DECLINED = "DECLINED", _("Declined")


class DecisionRules(models.Model):
    """The rules authorizeService decides by: one row, edited by staff in the admin (every change audited).

    A model rather than environment settings so that the bank's risk team can read and tune them without a
    deployment. Rules only ever raise a decision (APPROVED → REQUIRE_ADDITIONAL_AUTHENTICATION → DECLINED), except
    the one that lowers a manual add on the wallet's word; a threshold of 0 turns its rule off.
    """

    approve_pushes = models.BooleanField(
        default=True,
        help_text="A card pushed from the portal (source ACCOUNT_ADDED_VIA_APPLICATION) is approved: the cardholder "
        "signed in and passed a second factor before the push.",
    )
    push_must_match = models.BooleanField(
        default=True,
        help_text="…but only when the portal pushed this card to this wallet or merchant lately; otherwise it is "
        "treated like a card typed in by hand.",
    )
    push_match_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1)], help_text="How lately (minutes)."
    )
    manual_decision = models.CharField(
        max_length=40,
        choices=Decision.choices,
        default=Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
        help_text="A card typed into a wallet by hand, or any other source than a push.",
    )
    follow_wallet_decline = models.BooleanField(default=True, help_text="Decline when the wallet recommends DECLINED.")
    follow_wallet_step_up = models.BooleanField(
        default=True,
        help_text="Ask for the cardholder's proof when the wallet recommends REQUIRE_ADDITIONAL_AUTHENTICATION.",
    )
    approve_manual_on_wallet_approval = models.BooleanField(
        default=False,
        help_text="Approve a card typed in by hand when the wallet recommends APPROVED with scores at least the "
        "two below, on a device the cardholder already uses.",
    )
    approve_min_device_score = models.PositiveSmallIntegerField(default=4, validators=_SCORE)
    approve_min_account_score = models.PositiveSmallIntegerField(default=4, validators=_SCORE)
    device_score_step_up_below = models.PositiveSmallIntegerField(
        default=3, validators=_SCORE, help_text="The wallet scores devices 1 (least trusted) to 5. 0: off."
    )
    device_score_decline_below = models.PositiveSmallIntegerField(default=0, validators=_SCORE, help_text="0: off.")
    account_score_step_up_below = models.PositiveSmallIntegerField(
        default=3, validators=_SCORE, help_text="The wallet scores the cardholder's account 1 to 5. 0: off."
    )
    account_score_decline_below = models.PositiveSmallIntegerField(default=0, validators=_SCORE, help_text="0: off.")
    active_tokens_step_up_at = models.PositiveSmallIntegerField(
        default=5, help_text="Ask for proof when the card already has this many live tokens. 0: off."
    )
    active_tokens_decline_at = models.PositiveSmallIntegerField(
        default=0, help_text="Decline when the card already has this many live tokens. 0: off."
    )
    new_device_step_up = models.BooleanField(
        default=True,
        help_text="Ask for proof when a card typed in by hand goes to a device none of the cardholder's cards is "
        "on (pushes are exempt: the cardholder chose the wallet in the portal).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tokenization decision rules"
        verbose_name_plural = "tokenization decision rules"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="decision_rules_single_row")]

    def __str__(self) -> str:
        return "Tokenization decision rules"

    @classmethod
    def current(cls) -> Self:
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules


class TokenizationRequest(StatefulModel):
    """One provisioning MDES asked the portal about (authorizeService, or requestActivationMethods when MDES
    decided alone), by the token it will become. Pending ones are the cardholder's wallet requests."""

    class State(models.TextChoices):
        APPROVED = "approved", _("Approved, not active yet")
        PENDING = "pending", _("Waiting for the cardholder")
        DECLINED = "declined", _("Declined")
        ACTIVATED = "activated", _("Active")

    TRANSITIONS = {
        # MDES may ask about the same token again (a repeated authorizeService): the new answer stands.
        State.APPROVED: frozenset({State.PENDING, State.DECLINED, State.ACTIVATED}),
        State.PENDING: frozenset({State.APPROVED, State.DECLINED, State.ACTIVATED}),
        State.DECLINED: frozenset(),
        State.ACTIVATED: frozenset(),
    }
    INITIAL_STATES = frozenset({State.APPROVED, State.PENDING, State.DECLINED})

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token_unique_reference = models.CharField(max_length=64, unique=True)
    correlation_id = models.CharField(max_length=14)
    request_id = models.CharField(max_length=64, help_text="The requestId of MDES's first question.")
    card = models.ForeignKey("cardholders.Card", on_delete=models.CASCADE, related_name="tokenization_requests")
    token_requestor = models.ForeignKey(
        "provisioning.TokenRequestor", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trid = models.CharField("token requestor id", max_length=11, blank=True)
    wallet_id = models.CharField(max_length=3, blank=True)
    consumer_facing_name = models.CharField(max_length=100, blank=True)
    token_type = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="Where the card data came from (MDES's word).")
    payment_app_instance_id = models.CharField(max_length=48, blank=True)
    device_name = models.CharField(max_length=64, blank=True)
    device_form_factor = models.CharField(max_length=64, blank=True)
    device_os = models.CharField(max_length=32, blank=True)
    wallet_recommendation = models.CharField(max_length=64, blank=True)
    device_score = models.PositiveSmallIntegerField(null=True, blank=True)
    account_score = models.PositiveSmallIntegerField(null=True, blank=True)
    active_tokens = models.PositiveSmallIntegerField(default=0, help_text="Live tokens of the card at the time.")
    new_device = models.BooleanField(default=False)
    decision = models.CharField(max_length=40, choices=Decision.choices)
    reasons = models.JSONField(default=list, blank=True, help_text="Which rules decided (codes).")
    state = models.CharField(max_length=16, choices=State.choices)
    activation_method = models.CharField(max_length=64, blank=True, help_text="The way the cardholder chose.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="A pending request lapses then.")
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["card", "state", "-created_at"], name="tokenization_card_state_idx")]

    def __str__(self) -> str:
        return f"{self.consumer_facing_name or self.trid or 'Wallet'} request for card {self.card_id}"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING and self.expires_at > timezone.now()


class ActivationCode(OneTimeCode):
    """A code sent to the cardholder for one tokenization request (deliverActivationCode).

    Only its digest is kept. MDES sends its own codes again on a resend; a code the portal made is made again
    from `seed` and the portal's secret key, so a resend sends the same code without the code being stored.
    """

    class Origin(models.TextChoices):
        PORTAL = "portal", "Made by the portal (validateActivationCode)"
        MDES = "mdes", "Made by MDES"

    request = models.ForeignKey(TokenizationRequest, on_delete=models.CASCADE, related_name="codes")
    origin = models.CharField(max_length=8, choices=Origin.choices)
    seed = models.CharField(max_length=64, blank=True, help_text="Portal codes only; useless without the secret.")
    sends = models.PositiveSmallIntegerField(default=1)
    last_sent_at = models.DateTimeField(default=timezone.now)

    class Meta(OneTimeCode.Meta):
        indexes = [models.Index(fields=["request", "-created_at"], name="activation_code_request_idx")]

    def __str__(self) -> str:
        return f"Activation code for request {self.request_id} by {self.channel}"


class TokenAlert(StatefulModel):
    """ "Was this you?": the message about a token the portal did not push, and its single-use suspend link.

    One per token (duplicate notifications raise nothing more). The row is also the send queue: it commits with
    the notification that raised it, so a message the task could not send is sent by the minutely sweep. The link's
    token is made when the message is sent and kept only as its digest.
    """

    class State(models.TextChoices):
        DUE = "due", "Waiting to be sent"
        SENT = "sent", "Sent, link unused"
        NOT_SENT = "not_sent", "Could not be sent"
        SUSPENDED = "suspended", "The cardholder suspended the token"
        ACKNOWLEDGED = "acknowledged", "The cardholder said it was them"

    TRANSITIONS = {
        State.DUE: frozenset({State.SENT, State.NOT_SENT}),
        State.SENT: frozenset({State.SUSPENDED, State.ACKNOWLEDGED}),
        State.NOT_SENT: frozenset(),
        State.SUSPENDED: frozenset(),
        State.ACKNOWLEDGED: frozenset(),
    }
    INITIAL_STATES = frozenset({State.DUE})

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.OneToOneField("provisioning.CardToken", on_delete=models.CASCADE, related_name="alert")
    state = models.CharField(max_length=16, choices=State.choices, default=State.DUE)
    reason = models.CharField(max_length=32, help_text="Why the portal counts the token as not its push.")
    channel = models.CharField(max_length=8, blank=True)
    sent_to_hint = models.CharField(max_length=64, blank=True, help_text="Where it went, masked.")
    # NULL until sent, not "": unique allows many NULLs.
    link_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The link works until then.")
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(state="due"), name="token_alert_due_idx")]

    def __str__(self) -> str:
        return f"Was-this-you alert for token {self.token_id} ({self.state})"
