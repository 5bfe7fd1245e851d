"""The issuer's connection to the network: one configuration per environment, and its account ranges.

Secrets (the signing key's password, the keys themselves) never live here: only references to them
(file paths, names of environment variables), which the MDES client resolves at run time.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

ACCOUNT_RANGE_PATTERN = r"^[0-9]{9,19}$"
LOCALE_PATTERN = r"^[a-z]{2}_[A-Z]{2}$"


class NetworkConfiguration(models.Model):
    class Environment(models.TextChoices):
        SANDBOX = "sandbox", "Sandbox (local or Mastercard sandbox)"
        MTF = "mtf", "MTF (Mastercard Test Facility)"
        PRODUCTION = "production", "Production"

    name = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(
        default=False, help_text="The configuration the portal uses. At most one is active."
    )
    environment = models.CharField(max_length=16, choices=Environment.choices, default=Environment.SANDBOX)
    base_url = models.URLField(
        max_length=200, help_text="Token Connect base URL including /mdes, e.g. https://api.mastercard.com/mdes"
    )
    consumer_key = models.CharField(max_length=200, help_text="OAuth consumer key from the Mastercard project.")
    signing_key_path = models.CharField(
        max_length=500, help_text="Path of the PKCS#12 (.p12) file holding the OAuth signing key."
    )
    signing_key_password_env = models.CharField(
        max_length=100,
        default="MDES_SIGNING_KEY_PASSWORD",
        validators=[
            RegexValidator(r"^[A-Z][A-Z0-9_]*$", "An environment variable name, e.g. MDES_SIGNING_KEY_PASSWORD")
        ],
        help_text="Name of the environment variable holding the .p12 password (never the password itself).",
    )
    encryption_certificate_path = models.CharField(
        max_length=500, help_text="Path of Mastercard's payload-encryption certificate (.pem or .cer)."
    )
    encryption_key_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[0-9a-f]{32,64}$", "Lower-case hex, 32 to 64 characters")],
        help_text="Optional: the publicKeyFingerprint Mastercard gave you; computed from the certificate if empty.",
    )
    callback_base_url = models.URLField(
        max_length=200, help_text="Public origin of this portal, used to build the callback URL for token requestors."
    )
    receipt_validity_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(15)],
        help_text="How long push receipts stay valid (MDES allows 5 to 15 minutes).",
    )
    refresh_interval_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="How often the list of token requestors is refreshed from MDES (Mastercard recommends bi-weekly).",
    )
    default_locale = models.CharField(
        max_length=5,
        default="en_US",
        validators=[RegexValidator(LOCALE_PATTERN, "Language and country as ll_CC, e.g. en_US")],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_network_config"
            ),
            models.CheckConstraint(
                condition=Q(receipt_validity_minutes__gte=5, receipt_validity_minutes__lte=15),
                name="receipt_validity_5_to_15_minutes",
            ),
            models.CheckConstraint(condition=Q(default_locale__regex=LOCALE_PATTERN), name="default_locale_ll_cc"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_environment_display()})"


class AccountRange(models.Model):
    """A start of one of the issuer's account ranges enabled in MDES (9 to 19 digits)."""

    configuration = models.ForeignKey(NetworkConfiguration, on_delete=models.CASCADE, related_name="account_ranges")
    start = models.CharField(
        max_length=19,
        validators=[RegexValidator(ACCOUNT_RANGE_PATTERN, "9 to 19 digits")],
        help_text="Start of the account range, 9 to 19 digits (MDES pads it with zeros to 19).",
    )
    label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("start",)
        constraints = [
            models.UniqueConstraint(fields=["configuration", "start"], name="unique_account_range_per_config"),
            models.CheckConstraint(
                condition=Q(start__regex=ACCOUNT_RANGE_PATTERN), name="account_range_9_to_19_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start} {self.label}".strip()

    @property
    def padded_start(self) -> str:
        """The 19-digit form MDES uses in enabledAccountRanges."""
        return self.start.ljust(19, "0")
