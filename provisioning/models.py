"""The issuer's connection to MDES, the token requestors (wallets and merchants) it reports, and the pushes made to
them.

Secrets (the signing key's password, the keys themselves) never live here: only references to them (file paths,
names of environment variables), which the MDES client resolves at run time.
"""

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.metrics import JOB_RUN_SECONDS, JOB_RUNS
from core.states import StatefulModel
from provisioning.mdes.hosts import derived_customer_service_base_url

ACCOUNT_RANGE_PATTERN = r"^[0-9]{9,19}$"
LOCALE_PATTERN = r"^[a-z]{2}_[A-Z]{2}$"
TOKEN_UNIQUE_REFERENCE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # noqa: S105 - a format, not a secret


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
    customer_service_base_url = models.URLField(
        max_length=200,
        blank=True,
        help_text="Customer Service API base URL including the endpoint iteration, e.g. "
        "https://api.mastercard.com/mdes/csapi/v2. Blank: derived from the base URL "
        "(<base>/csapi/v2; for <host>/mdes/mtf, <host>/mdes/csapi/mtf/v2).",
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

    @property
    def effective_customer_service_base_url(self) -> str:
        return self.customer_service_base_url or derived_customer_service_base_url(self.base_url)


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


class LogoAsset(models.Model):
    """A token requestor logo fetched once with getAsset. An asset id never changes content."""

    asset_id = models.CharField(max_length=64, unique=True)
    svg = models.TextField(blank=True)
    png = models.BinaryField(blank=True)
    png_width = models.PositiveSmallIntegerField(null=True, blank=True)
    png_height = models.PositiveSmallIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.asset_id


def _complete_website_activation_default() -> bool:
    """New token requestors start with the deployment's choice (MDES_COMPLETE_WEBSITE_ACTIVATION, else MDES's
    default, true)."""
    return bool(getattr(settings, "MDES_COMPLETE_WEBSITE_ACTIVATION", True))


class TokenRequestor(models.Model):
    """A wallet or merchant eligible for the issuer's account ranges (from getEligibleTokenRequestors)."""

    class Type(models.TextChoices):
        WALLET = "WALLET", _("Wallet")
        MERCHANT = "MERCHANT", _("Merchant")

    trid = models.CharField("token requestor id", max_length=11, unique=True)
    name = models.CharField(max_length=64, help_text="Legal name.")
    consumer_facing_name = models.CharField(max_length=100, help_text="The name cardholders see, shown in full.")
    requestor_type = models.CharField(max_length=16, choices=Type.choices)
    wallet_id = models.CharField(max_length=3, blank=True)
    image_asset_id = models.CharField(max_length=64, blank=True)
    logo = models.ForeignKey(LogoAsset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    push_methods = models.JSONField(default=list, blank=True, help_text="availablePushMethods: [{type, uri}].")
    supports_multiple_pushed_cards = models.BooleanField(default=False)
    supported_account_holder_data = models.JSONField(default=list, blank=True)
    supports_cardholder_authentication = models.BooleanField(default=False)
    supports_token_connect = models.BooleanField(default=False)
    supports_issuer_initiated_digitization_data = models.BooleanField(default=False)
    # How the redirect to this requestor is formed. The defaults are the token requestor guide's (comma-separated
    # receipts; the JWS alone as pushAccountData); the settings keep requestors on an older convention working.
    receipts_separator = models.CharField(
        max_length=4,
        default=",",
        help_text="Joins several push receipts in the pushAccountReceipts parameter of the redirect.",
    )
    signature_param_name = models.CharField(
        max_length=64,
        default="pushAccountData",
        help_text="Query parameter of the redirect that carries the JWS MDES signed for this requestor.",
    )
    signed_redirect_with_plain_parameters = models.BooleanField(
        default=False,
        help_text=(
            "With a JWS, also send the receipts and the signed values as plain parameters (the convention before "
            "the token requestor guide; off sends the JWS alone)."
        ),
    )
    supports_signature = models.BooleanField(
        null=True,
        blank=True,
        help_text="tokenRequestorSignatureSupport from the last push response; unknown before the first push.",
    )
    complete_website_activation = models.BooleanField(
        default=_complete_website_activation_default,
        help_text=(
            "completeWebsiteActivation of a push: on, the wallet runs the activation a token awaiting the "
            "cardholder's proof needs; off (streamlined activation), it returns at once and the portal activates "
            "the token itself, the cardholder having passed a second factor before the push."
        ),
    )
    offered = models.BooleanField(default=False, help_text="Shown to cardholders (a staff choice).")
    display_order = models.PositiveIntegerField(default=0, help_text="Lower comes first.")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when MDES stopped returning it; a retired requestor is never offered."
    )

    class Meta:
        ordering = ("display_order", "consumer_facing_name")
        constraints = [
            models.CheckConstraint(condition=Q(trid__regex=r"^[0-9]{11}$"), name="trid_eleven_digits"),
            models.CheckConstraint(
                condition=Q(retired_at__isnull=True) | Q(offered=False), name="retired_requestor_not_offered"
            ),
            models.CheckConstraint(condition=~Q(receipts_separator=""), name="receipts_separator_not_empty"),
            models.CheckConstraint(
                condition=Q(signature_param_name__regex=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"),
                name="signature_param_name_is_a_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consumer_facing_name} ({self.trid})"

    @property
    def streamlined_activation(self) -> bool:
        return not self.complete_website_activation


class EnabledAccountRange(models.Model):
    """An account range start (19 digits) MDES enabled for a token requestor."""

    token_requestor = models.ForeignKey(TokenRequestor, on_delete=models.CASCADE, related_name="enabled_ranges")
    range_start = models.CharField(max_length=19, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token_requestor", "range_start"], name="unique_enabled_range"),
            models.CheckConstraint(condition=Q(range_start__regex=r"^[0-9]{19}$"), name="enabled_range_19_digits"),
        ]

    def __str__(self) -> str:
        return self.range_start


class DeviceEnvironment(models.TextChoices):
    ANDROID = "ANDROID", "Android"
    IOS = "IOS", "iOS"
    WEB = "WEB", "Web"


class PushRequest(StatefulModel):
    """One push of one or more cards to one token requestor, from the cardholder's choice to their return."""

    class State(models.TextChoices):
        STARTED = "started", "Started"
        PUSHED = "pushed", "Receipts issued"
        REDIRECTED = "redirected", "Sent to the token requestor"
        RETURNED = "returned", "Returned"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired without return"

    class Channel(models.TextChoices):
        WEB = "web", "Cardholder website"
        LANDING = "landing", "Landing link"
        API = "api", "API"

    TRANSITIONS = {
        State.STARTED: frozenset({State.PUSHED, State.FAILED}),
        # From PUSHED straight to RETURNED when an app, not the portal, performed the redirect.
        State.PUSHED: frozenset({State.REDIRECTED, State.RETURNED, State.FAILED, State.EXPIRED}),
        State.REDIRECTED: frozenset({State.RETURNED, State.EXPIRED}),
        State.RETURNED: frozenset(),
        State.FAILED: frozenset(),
        State.EXPIRED: frozenset(),
    }
    INITIAL_STATES = frozenset({State.STARTED})
    FINAL_STATES = frozenset({State.RETURNED, State.FAILED, State.EXPIRED})

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cardholder = models.ForeignKey(
        "cardholders.Cardholder", null=True, blank=True, on_delete=models.PROTECT, related_name="pushes"
    )
    token_requestor = models.ForeignKey(TokenRequestor, on_delete=models.PROTECT, related_name="pushes")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    device_environment = models.CharField(max_length=8, choices=DeviceEnvironment.choices)
    locale = models.CharField(max_length=5)
    network_environment = models.CharField(max_length=16, help_text="sandbox, mtf or production, at push time.")
    request_id = models.CharField(max_length=64, unique=True, help_text="requestId sent to MDES.")
    idempotency_key = models.CharField(max_length=64, unique=True, help_text="One per form render or API call.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    error_code = models.CharField(max_length=100, blank=True)
    error_description = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    redirected_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    streamlined_activation = models.BooleanField(
        default=False, help_text="Sent with completeWebsiteActivation=false: the portal activates what awaits proof."
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["state", "created_at"], name="push_state_created_idx")]

    def __str__(self) -> str:
        return f"Push {self.public_id} to {self.token_requestor_id} ({self.state})"


class ClickToPayConsent(models.Model):
    """The cardholder's consent to one push to Click to Pay: what they were shown, never the data itself.

    `data_digest` is an HMAC-SHA-256 of the personal data's canonical form (`provisioning.click_to_pay`), so
    what was sent can be matched later by whoever holds the data and the portal's key, but not read from here.
    """

    push = models.OneToOneField(PushRequest, on_delete=models.PROTECT, related_name="click_to_pay_consent")
    data_digest = models.CharField(max_length=64)
    data_kinds = models.JSONField(default=list, help_text="The kinds shown and sent, e.g. NAME, EMAIL_ADDRESS.")
    text_version = models.CharField(max_length=32, help_text="The consent wording's version.")
    terms_url = models.URLField(max_length=500)
    privacy_url = models.URLField(max_length=500)
    country = models.CharField(max_length=2, blank=True, help_text="Whose terms were shown (ISO alpha-2).")
    explicit_opt_in = models.BooleanField(help_text="The box started unticked (an explicit opt-in country).")
    given_by = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="click_to_pay_consents"
    )
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-given_at", "-id")

    def __str__(self) -> str:
        return f"Click to Pay consent for push {self.push_id} ({self.text_version})"


class NetworkCheck(models.TextChoices):
    """Whether the network (Customer Service API) confirmed what the browser reported for a receipt."""

    PENDING = "pending", "Being checked"
    CONFIRMED = "confirmed", "Confirmed by the network"
    CORRECTED = "corrected", "Corrected to the network's word"
    UNCHECKED = "unchecked", "Could not be checked"


class PushReceipt(StatefulModel):
    """One card of a push: MDES's pushAccountReceipt for it, or the per-account error that replaced it.

    The receipt is a bearer value for up to 15 minutes: only its SHA-256 digest (to match the callback) and a
    short hint (for people) are stored, never the value itself.
    """

    class State(models.TextChoices):
        ISSUED = "issued", "Issued"
        REFUSED = "refused", "Refused by MDES"
        USED = "used", "Used (returned)"
        EXPIRED = "expired", "Expired"

    class Result(models.TextChoices):
        APPROVED = "APPROVED", "Added"
        DUPLICATE_REQUEST = "DUPLICATE_REQUEST", "Already there"
        DECLINED = "DECLINED", "Declined"
        CANCELLED = "CANCELLED", "Cancelled"
        REQUIRE_ADDITIONAL_AUTHENTICATION = "REQUIRE_ADDITIONAL_AUTHENTICATION", "Needs more verification"
        ERROR = "ERROR", "Error at the token requestor"
        NOT_ADDED = "NOT_ADDED", "Not added (the network has no token)"
        AUTHENTICATED = "AUTHENTICATED", "Added and authenticated"
        DELETED = "DELETED", "Removed by the merchant"
        UNKNOWN = "UNKNOWN", "Unknown"

    class Activation(models.TextChoices):
        NONE = "", "Not the portal's to do"
        DUE = "due", "To be activated by the portal"
        DONE = "done", "Activated by the portal"
        FAILED = "failed", "Could not be activated"

    TRANSITIONS = {
        State.ISSUED: frozenset({State.USED, State.EXPIRED}),
        State.REFUSED: frozenset(),
        State.USED: frozenset(),
        State.EXPIRED: frozenset(),
    }
    INITIAL_STATES = frozenset({State.ISSUED, State.REFUSED})

    push = models.ForeignKey(PushRequest, on_delete=models.PROTECT, related_name="receipts")
    card = models.ForeignKey("cardholders.Card", on_delete=models.PROTECT, related_name="push_receipts")
    push_account_id = models.CharField(max_length=36)
    state = models.CharField(max_length=16, choices=State.choices)
    receipt_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    receipt_hint = models.CharField(max_length=24, blank=True, help_text="Prefix and last characters only.")
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(
        max_length=40, choices=Result.choices, blank=True, help_text="The outcome: the network's word once it gave it."
    )
    reported_result = models.CharField(
        max_length=40, choices=Result.choices, blank=True, help_text="What the browser's callback said."
    )
    network_check = models.CharField(max_length=16, choices=NetworkCheck.choices, blank=True)
    network_checked_at = models.DateTimeField(null=True, blank=True)
    network_check_attempts = models.PositiveSmallIntegerField(default=0)
    # As the callback reported it: only ever a key for asking the network (Customer Service API), never evidence.
    # NULL, not "": no reference reported, the same as for receipt_digest.
    token_unique_reference = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        validators=[RegexValidator(TOKEN_UNIQUE_REFERENCE_PATTERN, "1 to 64 letters, digits, - or _")],
        help_text="tokenUniqueReference the token requestor's callback reported (unverified).",
    )
    activation = models.CharField(
        max_length=8,
        choices=Activation.choices,
        blank=True,
        help_text="Streamlined activation: whether the portal still has to activate the token, did, or gave up.",
    )
    activation_attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=100, blank=True)
    error_description = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("push_id", "id")
        constraints = [
            models.UniqueConstraint(fields=["push", "card"], name="one_receipt_per_card_per_push"),
            models.UniqueConstraint(fields=["push", "push_account_id"], name="unique_push_account_id"),
            models.CheckConstraint(
                condition=Q(state="refused") | Q(receipt_digest__isnull=False, expires_at__isnull=False),
                name="receipt_has_digest_and_expiry",
            ),
            models.CheckConstraint(
                condition=~Q(state="used") | (Q(used_at__isnull=False) & ~Q(result="")),
                name="used_receipt_has_result",
            ),
            models.CheckConstraint(
                condition=Q(token_unique_reference__isnull=True)
                | Q(token_unique_reference__regex=TOKEN_UNIQUE_REFERENCE_PATTERN),
                name="receipt_token_unique_reference_format",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(state="issued"), name="receipt_issued_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_hint or self.push_account_id} ({self.state})"


class JobRun(StatefulModel):
    """One run of a background job (refresh, expiry): when, how it ended, what it did."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Succeeded with errors"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    TRANSITIONS = {
        State.RUNNING: frozenset({State.SUCCEEDED, State.PARTIAL, State.FAILED, State.SKIPPED}),
        State.SUCCEEDED: frozenset(),
        State.PARTIAL: frozenset(),
        State.FAILED: frozenset(),
        State.SKIPPED: frozenset(),
    }
    # SKIPPED is recorded directly when another run of the same job is under way.
    INITIAL_STATES = frozenset({State.RUNNING, State.SKIPPED})

    job = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=["job", "-started_at"], name="jobrun_job_started_idx")]
        constraints = [
            # Single flight across every process and machine: at most one running run per job.
            models.UniqueConstraint(fields=["job"], condition=Q(state="running"), name="one_running_run_per_job"),
        ]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M} ({self.state})"

    def finish(self, *, state: str, counts: dict[str, Any] | None = None, detail: str = "") -> "JobRun":
        self.transition_to(state)
        self.finished_at = timezone.now()
        self.counts = counts or {}
        self.detail = detail[:2000]
        self.save()
        JOB_RUNS.labels(job=self.job, state=state).inc()
        JOB_RUN_SECONDS.labels(job=self.job).observe((self.finished_at - self.started_at).total_seconds())
        return self


class HandoffLink(models.Model):
    """A short-lived, single-use link that resumes the flow on the cardholder's phone (web-to-app is same-device).

    Only the SHA-256 digest of the token is stored; the token itself is shown once, in a QR code.
    """

    token_digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=500, help_text="The portal path to resume at (after signing in).")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="handoff_user_created_idx")]

    def __str__(self) -> str:
        return f"Handoff link for user {self.user_id}"


class CardToken(models.Model):
    """A token of a card, as the network's Customer Service API last described it: where the card lives.

    Written only from the network's answers (a search, or the answer to a lifecycle change), never from a browser.
    `portal_suspenders` is the portal's own record of who asked it to suspend (real MDES records every Customer
    Service call as the issuer's, so the network alone cannot tell a cardholder's suspension from the bank's).
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "U", _("Being set up")
        ACTIVE = "A", _("Active")
        SUSPENDED = "S", _("Suspended")
        DELETED = "D", _("Removed")

    class Party(models.TextChoices):
        CARDHOLDER = "cardholder", _("you")
        ISSUER = "issuer", _("your bank")
        TOKEN_REQUESTOR = "token_requestor", _("the wallet or merchant")
        NETWORK = "network", _("the card network")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    card = models.ForeignKey("cardholders.Card", on_delete=models.CASCADE, related_name="tokens")
    token_requestor = models.ForeignKey(
        TokenRequestor, null=True, blank=True, on_delete=models.SET_NULL, related_name="card_tokens"
    )
    trid = models.CharField("token requestor id", max_length=11, blank=True)
    token_requestor_name = models.CharField(max_length=100, blank=True, help_text="As the network names it.")
    token_unique_reference = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(TOKEN_UNIQUE_REFERENCE_PATTERN, "1 to 64 letters, digits, - or _")],
    )
    status = models.CharField(max_length=1, choices=Status.choices)
    status_at = models.DateTimeField(null=True, blank=True, help_text="Since when, as the network says.")
    suspenders = models.JSONField(default=list, blank=True, help_text="The network's suspenders: I, W, C, P, M.")
    portal_suspenders = models.JSONField(
        default=list, blank=True, help_text="Who asked the portal to suspend: cardholder, issuer."
    )
    device_name = models.CharField(max_length=64, blank=True)
    device_type = models.CharField(max_length=4, blank=True, help_text="The network's code: 21 phone, 23 watch, 25 PC.")
    wallet_id = models.CharField(max_length=3, blank=True)
    token_suffix = models.CharField(max_length=4, blank=True)
    deleted_from_consumer_app = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(help_text="When the network last described this token.")

    class Meta:
        ordering = ("card_id", "-status_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(token_unique_reference__regex=TOKEN_UNIQUE_REFERENCE_PATTERN),
                name="card_token_unique_reference_format",
            ),
            models.CheckConstraint(condition=Q(status__in=["U", "A", "S", "D"]), name="card_token_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.token_requestor_name or self.trid} ••{self.token_suffix} ({self.get_status_display()})"

    @property
    def suspended_by(self) -> frozenset[str]:
        """Who holds a suspension, in the portal's words (Party). An issuer suspension the portal made for the
        cardholder counts as the cardholder's; one it has no record of stays the issuer's."""
        if self.status != self.Status.SUSPENDED:
            return frozenset()
        parties = {party for party in self.portal_suspenders if party in self.Party.values}
        for code in self.suspenders:
            if code == "C":
                parties.add(self.Party.CARDHOLDER)
            elif code == "I" and not parties:
                parties.add(self.Party.ISSUER)
            elif code == "W":
                parties.add(self.Party.TOKEN_REQUESTOR)
            elif code in ("P", "M"):
                parties.add(self.Party.NETWORK)
        return frozenset(parties or {self.Party.ISSUER})

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.DELETED and not self.deleted_from_consumer_app


class CardTokenCheck(models.Model):
    """When the network was last asked for all of a card's tokens, and whether it answered."""

    card = models.OneToOneField("cardholders.Card", on_delete=models.CASCADE, related_name="token_check")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="The last answer.")
    attempted_at = models.DateTimeField(null=True, blank=True, help_text="The last question.")
    failure = models.CharField(max_length=200, blank=True, help_text="Why the last question got no answer.")

    def __str__(self) -> str:
        return f"tokens of card {self.card_id} checked {self.checked_at or 'never'}"
