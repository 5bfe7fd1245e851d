import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.branding import BRAND_COLOURS
from core.images import RasterImageField
from core.states import StatefulModel

PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
LOCALE_PATTERN = r"^[a-z]{2}_[A-Z]{2}$"


class Cardholder(models.Model):
    """A person holding cards of this issuer, signed in through their user account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cardholder")
    phone_number = models.CharField(
        max_length=16,
        blank=True,
        validators=[RegexValidator(PHONE_PATTERN, "International format, e.g. +4915112345678")],
        help_text="Mobile number in international format, for one-time codes and, if a wallet accepts it, the push.",
    )
    preferred_locale = models.CharField(
        max_length=5,
        blank=True,
        validators=[RegexValidator(LOCALE_PATTERN, "Language and country as ll_CC, e.g. en_US")],
        help_text="The cardholder's own choice; empty until they make one (pages then follow the browser).",
    )
    address_line1 = models.CharField(max_length=64, blank=True)
    address_line2 = models.CharField(max_length=64, blank=True)
    address_city = models.CharField(max_length=32, blank=True)
    address_country_subdivision = models.CharField(max_length=12, blank=True)
    address_postal_code = models.CharField(max_length=16, blank=True)
    address_country = models.CharField(
        max_length=3, blank=True, validators=[RegexValidator(r"^[A-Z]{3}$", "ISO 3166-1 alpha-3, e.g. USA")]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(preferred_locale="") | Q(preferred_locale__regex=LOCALE_PATTERN),
                name="cardholder_locale_empty_or_ll_cc",
            ),
        ]

    def __str__(self) -> str:
        return f"Cardholder #{self.pk}"


class Program(models.Model):
    """A card program of this issuer (a gift-card program, an employer's expense cards, an insurer's emergency
    cards): its name and branding on landing pages, and the scope of a program manager's API key."""

    name = models.CharField(max_length=100, unique=True, help_text="Shown to recipients on landing pages.")
    card_art = RasterImageField(upload_to="program-art/", blank=True, help_text="Used when a card has none.")
    brand_colour = models.CharField(
        max_length=16,
        blank=True,
        choices=BRAND_COLOURS,
        help_text="The colour of its landing pages (empty: the issuer's).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Card(StatefulModel):
    """A card of the issuer. Its number is held only sealed by `cardholders.vault`."""

    class ProductKind(models.TextChoices):
        DEBIT = "debit", _("Debit")
        CREDIT = "credit", _("Credit")
        PREPAID = "prepaid", _("Prepaid")
        GIFT = "gift", _("Gift")
        EXPENSE = "expense", _("Expense")
        EMERGENCY = "emergency", _("Emergency")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {
        State.ACTIVE: frozenset({State.SUSPENDED, State.CLOSED}),
        State.SUSPENDED: frozenset({State.ACTIVE, State.CLOSED}),
        State.CLOSED: frozenset(),
    }
    INITIAL_STATES = frozenset({State.ACTIVE, State.SUSPENDED})

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cardholder = models.ForeignKey(
        Cardholder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cards",
        help_text="Empty for cards handed out through a landing link (gift, expense, emergency).",
    )
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cards",
        help_text="The program the card belongs to, if any: its branding and who may manage it through the API.",
    )
    product_kind = models.CharField(max_length=16, choices=ProductKind.choices)
    product_name = models.CharField(max_length=100)
    card_art = RasterImageField(upload_to="card-art/", blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    first_six = models.CharField(max_length=6, validators=[RegexValidator(r"^[0-9]{6}$")])
    last_four = models.CharField(max_length=4, validators=[RegexValidator(r"^[0-9]{4}$")])
    expiry_month = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(12)])
    expiry_year = models.PositiveSmallIntegerField(validators=[MinValueValidator(2000), MaxValueValidator(2099)])
    account_range_start = models.CharField(
        max_length=19, help_text="The issuer account range (padded to 19 digits) this card belongs to."
    )
    number_ciphertext = models.BinaryField(editable=False)
    number_key_id = models.CharField(max_length=32, editable=False)
    number_fingerprint = models.CharField(
        max_length=64, unique=True, editable=False, help_text="HMAC-SHA-256 of the card number, for look-up."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("cardholder_id", "product_name", "id")
        constraints = [
            models.CheckConstraint(condition=Q(expiry_month__gte=1, expiry_month__lte=12), name="card_expiry_month"),
            models.CheckConstraint(condition=Q(first_six__regex=r"^[0-9]{6}$"), name="card_first_six_digits"),
            models.CheckConstraint(condition=Q(last_four__regex=r"^[0-9]{4}$"), name="card_last_four_digits"),
            models.CheckConstraint(condition=Q(account_range_start__regex=r"^[0-9]{19}$"), name="card_range_19_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.product_name} •••• {self.last_four}"

    @property
    def masked_number(self) -> str:
        return f"{self.first_six}••••••{self.last_four}"

    @property
    def expiry_display(self) -> str:
        return f"{self.expiry_month:02d}/{self.expiry_year % 100:02d}"
