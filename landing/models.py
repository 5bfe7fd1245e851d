"""Landing links: a card handed to someone without an account (gift, expense, emergency), opened on a phone."""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cardholders.models import PHONE_PATTERN
from core.images import RasterImageField
from core.one_time_codes import OneTimeCode


class LandingLink(models.Model):
    """One card, one recipient. Its address carries a long random token of which only a digest is stored.

    A link is usable until it expires, is revoked by staff or a program manager, or has been used for
    `max_pushes` pushes (exhausted).
    """

    class Purpose(models.TextChoices):
        GIFT = "gift", _("Gift card")
        EXPENSE = "expense", _("Expense card")
        EMERGENCY = "emergency", _("Emergency card")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        EXHAUSTED = "exhausted", _("Used up")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    card = models.ForeignKey("cardholders.Card", on_delete=models.PROTECT, related_name="landing_links")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    recipient_phone = models.CharField(
        max_length=16,
        blank=True,
        validators=[RegexValidator(PHONE_PATTERN, "International format, e.g. +4915112345678")],
        help_text="Where the link and the one-time codes go by text message.",
    )
    recipient_email = models.EmailField(blank=True, help_text="Where the link and the one-time codes go by e-mail.")
    message = models.TextField(
        max_length=500,
        blank=True,
        validators=[MaxLengthValidator(500)],
        help_text="A personal message shown on the page (gift).",
    )
    program_name = models.CharField(
        max_length=100, blank=True, help_text="Shown as the sender; the card's program name when empty."
    )
    card_art = RasterImageField(upload_to="landing-art/", blank=True, help_text="The card's or program's when empty.")
    max_pushes = models.PositiveSmallIntegerField(default=5)
    pushes_started = models.PositiveSmallIntegerField(
        default=0, help_text="Pushes taken from max_pushes (one that fails before a receipt gives its place back)."
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=254, help_text="Who minted it: a staff member or an API key.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_label = models.CharField(max_length=254, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=~Q(recipient_phone="") | ~Q(recipient_email=""), name="landing_link_has_a_contact"
            ),
            models.CheckConstraint(condition=Q(max_pushes__gte=1), name="landing_link_allows_a_push"),
            models.CheckConstraint(
                condition=Q(pushes_started__lte=models.F("max_pushes")), name="landing_link_pushes_within_max"
            ),
        ]
        indexes = [models.Index(fields=["card", "-created_at"], name="landing_card_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link {self.public_id}"

    @property
    def display_name(self) -> str:
        """Who the card comes from, as the recipient sees it."""
        program = self.card.program
        return self.program_name or (program.name if program else "") or self.card.product_name

    @property
    def art(self) -> models.fields.files.FieldFile | None:
        for candidate in (self.card_art, self.card.card_art, self.card.program.card_art if self.card.program else None):
            if candidate:
                return candidate
        return None

    def status(self) -> str:
        # A card that has since joined a cardholder's account is theirs to manage: its links stop.
        if self.revoked_at is not None or self.card.cardholder_id is not None:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        if self.pushes_started >= self.max_pushes:
            return self.Status.EXHAUSTED
        return self.Status.ACTIVE


class LandingAccessToken(models.Model):
    """A way into a landing link: the token sent to the recipient, or a short-lived one shown as a QR code on a
    desktop to continue on the phone. Only the SHA-256 digest is stored; the token itself is never logged."""

    class Kind(models.TextChoices):
        SENT = "sent", "Sent to the recipient"
        PHONE_HANDOFF = "phone_handoff", "QR code to continue on the phone"

    link = models.ForeignKey(LandingLink, on_delete=models.CASCADE, related_name="access_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.link_id}"


class LandingCode(OneTimeCode):
    """A one-time code sent to the link's recipient to prove possession before any push."""

    link = models.ForeignKey(LandingLink, on_delete=models.CASCADE, related_name="codes")

    class Meta(OneTimeCode.Meta):
        indexes = [models.Index(fields=["link", "-created_at"], name="landing_code_link_created_idx")]

    def __str__(self) -> str:
        return f"Code for {self.link_id} by {self.channel}"


class LandingPush(models.Model):
    """A push started through a landing link (the push itself is an ordinary `provisioning.PushRequest`)."""

    link = models.ForeignKey(LandingLink, on_delete=models.PROTECT, related_name="pushes")
    push = models.OneToOneField("provisioning.PushRequest", on_delete=models.PROTECT, related_name="landing")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Push {self.push_id} through {self.link_id}"
