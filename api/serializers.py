"""What the API reads and writes. Output shows a card by first six and last four digits at most, a receipt in
full only in the push-start answer (the protocol needs it there), and a landing link's address only when minted.
"""

import enum
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from cardholders.models import Card
from core.personal_data import mask_email
from issuer_services.wallet_requests import WalletRequest, WalletRequestView
from landing.models import LandingLink
from provisioning.devices import usable_push_method_types
from provisioning.mdes.callback import RECEIPT_MAX_LENGTH
from provisioning.models import (
    TOKEN_UNIQUE_REFERENCE_PATTERN,
    CardToken,
    CardTokenCheck,
    DeviceEnvironment,
    LogoAsset,
    NetworkCheck,
    PushReceipt,
    PushRequest,
    TokenRequestor,
)
from provisioning.outcomes import receipt_outcome
from provisioning.receipts import ReceiptUse
from provisioning.selectors import MAX_CARDS_PER_PUSH
from provisioning.tokens import cardholder_may_resume

# --- Problems (documentation of api.problems' shape) ------------------------------------------------------------------


class ProblemFieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(allow_null=True, help_text="The field at fault as a dotted path; null if none.")
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 7807 problem details; `code` is stable, `title` and `detail` are for people."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    # A declared field: DRF's metaclass moves it off the class, so it does not hide Serializer.errors.
    errors = ProblemFieldErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    push_id = serializers.UUIDField(required=False, help_text="The push the error is about, if one was recorded.")
    reason = serializers.CharField(required=False, help_text="The card network's reason, when it gave one.")


# --- Cards and token requestors ---------------------------------------------------------------------------------------


class CardSerializer(serializers.Serializer[Card]):
    id = serializers.UUIDField(source="public_id")
    product_name = serializers.CharField()
    product_kind = serializers.ChoiceField(choices=Card.ProductKind.choices)
    first_six = serializers.CharField()
    last_four = serializers.CharField()
    expiry = serializers.CharField(source="expiry_display", help_text="MM/YY")
    state = serializers.ChoiceField(choices=Card.State.choices)
    program = serializers.CharField(source="program.name", allow_null=True, default=None)


class CardBriefSerializer(serializers.Serializer[Card]):
    id = serializers.UUIDField(source="public_id")
    product_name = serializers.CharField()
    last_four = serializers.CharField()


class LogoSerializer(serializers.Serializer[Any]):
    svg = serializers.URLField(allow_null=True)
    png = serializers.URLField(allow_null=True)


class TokenRequestorBriefSerializer(serializers.Serializer[TokenRequestor]):
    trid = serializers.CharField(help_text="Token requestor id (11 digits), as MDES names it.")
    name = serializers.CharField(source="consumer_facing_name")
    type = serializers.ChoiceField(source="requestor_type", choices=TokenRequestor.Type.choices)


def _logo_urls(logo: LogoAsset | None, request: Request) -> dict[str, str | None] | None:
    if logo is None:
        return None

    def url(image_format: str) -> str:
        return str(request.build_absolute_uri(reverse("api:logo", args=[logo.asset_id, image_format])))

    return {"svg": url("svg") if logo.svg else None, "png": url("png") if logo.png else None}


class TokenRequestorSerializer(TokenRequestorBriefSerializer):
    logo = serializers.SerializerMethodField()
    supports_multiple_cards = serializers.BooleanField(source="supports_multiple_pushed_cards")
    supports_digitization_data = serializers.BooleanField(
        source="supports_issuer_initiated_digitization_data",
        help_text="Whether a push returns issuer-initiated digitization data for the requestor's SDK.",
    )
    push_methods = serializers.SerializerMethodField(help_text="Push method types usable on the platform, best first.")

    @extend_schema_field(LogoSerializer(allow_null=True))
    def get_logo(self, requestor: TokenRequestor) -> dict[str, str | None] | None:
        return _logo_urls(requestor.logo, self.context["request"])

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=DeviceEnvironment.choices)))
    def get_push_methods(self, requestor: TokenRequestor) -> list[str]:
        offered = {method.get("type") for method in requestor.push_methods}
        return [kind for kind in usable_push_method_types(self.context["platform"]) if kind in offered]


class EligibleTokenRequestorsQuerySerializer(serializers.Serializer[Any]):
    card = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_CARDS_PER_PUSH, help_text="Card id, repeated."
    )
    platform = serializers.ChoiceField(choices=DeviceEnvironment.choices)


# --- Pushes -----------------------------------------------------------------------------------------------------------


class OutcomeSerializer(serializers.Serializer[Any]):
    tone = serializers.ChoiceField(choices=["success", "warning", "failure", "pending"])
    heading = serializers.CharField()
    text = serializers.CharField()
    network_note = serializers.CharField(help_text="Whether the card network confirmed it, or is still asked.")


class PushCardSerializer(serializers.Serializer[PushReceipt]):
    """One card of a push and what happened to it."""

    card = CardBriefSerializer()
    state = serializers.ChoiceField(choices=PushReceipt.State.choices)
    result = serializers.SerializerMethodField()
    reported_result = serializers.SerializerMethodField()
    network_check = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=PushReceipt.Result.choices, allow_null=True))
    def get_reported_result(self, receipt: PushReceipt) -> str | None:
        """What the callback reported; `result` is the network's word once `network_check` says so."""
        return receipt.reported_result or None

    @extend_schema_field(serializers.ChoiceField(choices=NetworkCheck.choices, allow_null=True))
    def get_network_check(self, receipt: PushReceipt) -> str | None:
        return receipt.network_check or None

    @extend_schema_field(serializers.ChoiceField(choices=PushReceipt.Result.choices, allow_null=True))
    def get_result(self, receipt: PushReceipt) -> str | None:
        return receipt.result or None

    @extend_schema_field(OutcomeSerializer)
    def get_outcome(self, receipt: PushReceipt) -> dict[str, str]:
        outcome = receipt_outcome(receipt, receipt.push.token_requestor.consumer_facing_name)
        return {
            "tone": outcome.tone,
            "heading": outcome.heading,
            "text": outcome.text,
            "network_note": outcome.network_note,
        }


class PushSerializer(serializers.Serializer[PushRequest]):
    id = serializers.UUIDField(source="public_id")
    created_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=PushRequest.State.choices)
    channel = serializers.ChoiceField(choices=PushRequest.Channel.choices)
    platform = serializers.ChoiceField(source="device_environment", choices=DeviceEnvironment.choices)
    token_requestor = TokenRequestorBriefSerializer()
    cards = PushCardSerializer(source="receipts", many=True)


class PushStartSerializer(serializers.Serializer[Any]):
    cards = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_CARDS_PER_PUSH, help_text="Ids of your cards."
    )
    token_requestor = serializers.RegexField(r"^[0-9]{11}$", help_text="The chosen requestor's trid.")
    platform = serializers.ChoiceField(choices=DeviceEnvironment.choices)
    consent_given = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Click to Pay only, required there: true once the cardholder agreed to the review "
        "(GET /me/click-to-pay/review/). Without it: 422 `consent_required`.",
    )
    consent_version = serializers.CharField(
        required=False,
        default="",
        max_length=32,
        help_text="Click to Pay only, required there: the review's `consent_version` the cardholder agreed to.",
    )
    data_digest = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        default="",
        help_text="Click to Pay, optional: the review's `data_digest`; if the details changed since, 409 "
        "`details_changed`.",
    )


class ClickToPayReviewQuerySerializer(serializers.Serializer[Any]):
    card = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_CARDS_PER_PUSH, help_text="Card id, repeated."
    )
    token_requestor = serializers.RegexField(r"^[0-9]{11}$", help_text="The Click to Pay requestor's trid.")
    platform = serializers.ChoiceField(choices=DeviceEnvironment.choices)


class ClickToPayDataSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER", "ADDRESS"])
    caption = serializers.CharField(source="label", help_text="What to call it on screen, e.g. Mobile number.")
    value = serializers.CharField(help_text="As the cardholder should see it.")


class ClickToPayReviewSerializer(serializers.Serializer[Any]):
    """What a push to Click to Pay would share, to show the cardholder before they agree."""

    token_requestor = TokenRequestorBriefSerializer(source="review.requestor")
    available = serializers.BooleanField(
        source="review.available", help_text="False while details Click to Pay needs are missing (see `missing`)."
    )
    missing = serializers.ListField(
        source="review.missing", child=serializers.CharField(), help_text="Needed kinds of data not on file."
    )
    missing_reason = serializers.SerializerMethodField()
    already_there = serializers.SerializerMethodField(
        help_text="Ids of the chosen cards already in Click to Pay (a live token)."
    )
    shared = ClickToPayDataSerializer(source="review.items", many=True, help_text="Exactly what the push would send.")
    data_digest = serializers.CharField(source="review.digest", help_text="Send it back with the push (optional).")
    country = serializers.CharField(source="review.country", help_text="Whose terms apply (ISO alpha-2, or empty).")
    terms_url = serializers.URLField(source="review.terms_url")
    privacy_url = serializers.URLField(source="review.privacy_url")
    explicit_opt_in = serializers.BooleanField(
        source="review.explicit_opt_in", help_text="The consent box must start unticked in this country."
    )
    consent_text = serializers.CharField(source="review.consent_text")
    consent_version = serializers.CharField(source="review.consent_version")

    def get_missing_reason(self, offer: Any) -> str:
        return str(offer.review.missing_reason) if offer.review.missing else ""

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_already_there(self, offer: Any) -> list[str]:
        return [str(card.public_id) for card in offer.cards_there]


class IssuedReceiptSerializer(serializers.Serializer[Any]):
    card = CardBriefSerializer()
    receipt = serializers.CharField(help_text="pushAccountReceipt: a bearer value, valid until expires_at.")
    expires_at = serializers.DateTimeField()
    digitization_data = serializers.CharField(
        allow_null=True, help_text="issuerInitiatedDigitizationData for the requestor's SDK, where it supports it."
    )


class PushStartedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="push.public_id")
    state = serializers.ChoiceField(source="push.state", choices=PushRequest.State.choices)
    platform = serializers.ChoiceField(source="push.device_environment", choices=DeviceEnvironment.choices)
    token_requestor = TokenRequestorBriefSerializer(source="push.token_requestor")
    redirect_url = serializers.URLField(
        help_text="The requestor's URI for the platform with receipts, callback URL and signature appended."
    )
    expires_at = serializers.DateTimeField(help_text="When the first of the receipts expires.")
    receipts = IssuedReceiptSerializer(source="issued", many=True)


class PushResultItemSerializer(serializers.Serializer[Any]):
    receipt = serializers.CharField(
        max_length=RECEIPT_MAX_LENGTH, help_text="A receipt of this push, as the requestor returned it."
    )
    result = serializers.ChoiceField(choices=PushReceipt.Result.choices)
    token_unique_reference = serializers.RegexField(
        TOKEN_UNIQUE_REFERENCE_PATTERN,
        max_length=64,
        required=False,
        help_text="What the callback carried after '|' (APPROVED|<reference>), if anything.",
    )


class PushResultSerializer(serializers.Serializer[Any]):
    results = PushResultItemSerializer(many=True, min_length=1, max_length=MAX_CARDS_PER_PUSH)  # type: ignore[call-arg]


class ReportedReceiptSerializer(serializers.Serializer[Any]):
    receipt_hint = serializers.CharField(help_text="The receipt's first and last characters only.")
    use = serializers.ChoiceField(
        choices=ReceiptUse.values,
        help_text="; ".join(f"{use.value}: {use.label}" for use in ReceiptUse),
    )


class PushResultReportedSerializer(PushSerializer):
    reported = ReportedReceiptSerializer(many=True)


class CardPushSerializer(serializers.Serializer[PushRequest]):
    """A push in a card's history (program managers): what happened to that card."""

    id = serializers.UUIDField(source="public_id")
    created_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=PushRequest.State.choices)
    channel = serializers.ChoiceField(choices=PushRequest.Channel.choices)
    platform = serializers.ChoiceField(source="device_environment", choices=DeviceEnvironment.choices)
    token_requestor = TokenRequestorBriefSerializer()
    landing_link = serializers.SerializerMethodField()
    card = serializers.SerializerMethodField(help_text="This card's part of the push; null if it failed before.")

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_landing_link(self, push: PushRequest) -> str | None:
        landing = getattr(push, "landing", None)
        return str(landing.link.public_id) if landing is not None else None

    @extend_schema_field(PushCardSerializer(allow_null=True))
    def get_card(self, push: PushRequest) -> dict[str, Any] | None:
        receipts = push.receipts_of_card  # type: ignore[attr-defined]  # prefetched by api.selectors.card_pushes
        return dict(PushCardSerializer(receipts[0]).data) if receipts else None


# --- Where a card lives: its tokens ----------------------------------------------------------------------------------

# The Customer Service API's device types (two-digit codes) in the API's words; any other code is "other".
DEVICE_TYPES = {"21": "phone", "23": "watch", "25": "computer"}


class TokenStatus(enum.StrEnum):
    """A token's status in the API's words: the network's, and "removed_from_device" for a token the network keeps
    (for subscriptions) but that is gone from the device or the merchant."""

    IN_PROGRESS = "in_progress"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED_FROM_DEVICE = "removed_from_device"
    REMOVED = "removed"


_STATUS_OF_NETWORK = {
    CardToken.Status.IN_PROGRESS: TokenStatus.IN_PROGRESS,
    CardToken.Status.ACTIVE: TokenStatus.ACTIVE,
    CardToken.Status.SUSPENDED: TokenStatus.SUSPENDED,
    CardToken.Status.DELETED: TokenStatus.REMOVED,
}


def token_status(token: CardToken) -> TokenStatus:
    if token.status != CardToken.Status.DELETED and token.deleted_from_consumer_app:
        return TokenStatus.REMOVED_FROM_DEVICE
    return _STATUS_OF_NETWORK[CardToken.Status(token.status)]


def _parties(token: CardToken) -> list[str]:
    """Who holds the token's suspension, in a stable order (the cardholder first)."""
    return [party.value for party in CardToken.Party if party in token.suspended_by]


def _status_text(token: CardToken) -> str:
    status = token_status(token)
    if status == TokenStatus.SUSPENDED:
        *others, last = [str(CardToken.Party(party).label) for party in _parties(token)]
        who = gettext("%(others)s and %(last)s") % {"others": ", ".join(others), "last": last} if others else last
        return gettext("Suspended by %(who)s") % {"who": who}
    if status == TokenStatus.REMOVED_FROM_DEVICE:
        return gettext("Removed from the device")
    return str(CardToken.Status(token.status).label)


class TokenHolderSerializer(serializers.Serializer[CardToken]):
    """The wallet or merchant a token lives at, as the token requestor endpoints describe it; `type` and `logo`
    are null for a requestor the portal does not know (the network's name is shown then)."""

    trid = serializers.CharField(help_text="Token requestor id (11 digits), as MDES names it.")
    name = serializers.SerializerMethodField()
    type = serializers.ChoiceField(
        source="token_requestor.requestor_type", choices=TokenRequestor.Type.choices, allow_null=True, default=None
    )
    logo = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_name(self, token: CardToken) -> str:
        requestor = token.token_requestor
        return (requestor.consumer_facing_name if requestor else "") or token.token_requestor_name or token.trid

    @extend_schema_field(LogoSerializer(allow_null=True))
    def get_logo(self, token: CardToken) -> dict[str, str | None] | None:
        requestor = token.token_requestor
        return _logo_urls(requestor.logo if requestor else None, self.context["request"])


class CardTokenSerializer(serializers.Serializer[CardToken]):
    """A token of a card: where the card lives, as the card network last described it."""

    id = serializers.UUIDField(source="public_id")
    token_requestor = TokenHolderSerializer(source="*")
    device_name = serializers.CharField(allow_null=True, help_text="As the wallet named the device; null if none.")
    device_type = serializers.SerializerMethodField(help_text="null if the network did not say.")
    status = serializers.SerializerMethodField(
        help_text=(
            "in_progress: being set up; active; suspended (see suspended_by); removed_from_device: gone from the "
            "device or merchant, kept by the network for subscriptions; removed: for good."
        )
    )
    status_text = serializers.SerializerMethodField(help_text="The status in plain words, for people.")
    suspended_by = serializers.SerializerMethodField(help_text="Who holds a suspension; empty unless suspended.")
    may_resume = serializers.SerializerMethodField(
        help_text="Whether you may resume it: only a suspension you made, not the bank's, wallet's or network's."
    )
    token_suffix = serializers.CharField(allow_null=True, help_text="The token's last four digits (not the card's).")
    status_at = serializers.DateTimeField(allow_null=True, help_text="Since when, as the network says.")
    checked_at = serializers.DateTimeField(help_text="When the network last described this token.")

    def to_representation(self, token: CardToken) -> dict[str, Any]:
        data = super().to_representation(token)
        data["device_name"] = data["device_name"] or None
        data["token_suffix"] = data["token_suffix"] or None
        return data

    @extend_schema_field(serializers.ChoiceField(choices=[*DEVICE_TYPES.values(), "other"], allow_null=True))
    def get_device_type(self, token: CardToken) -> str | None:
        return DEVICE_TYPES.get(token.device_type, "other") if token.device_type else None

    @extend_schema_field(serializers.ChoiceField(choices=[status.value for status in TokenStatus]))
    def get_status(self, token: CardToken) -> str:
        return token_status(token)

    @extend_schema_field(serializers.CharField())
    def get_status_text(self, token: CardToken) -> str:
        return _status_text(token)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=CardToken.Party.values)))
    def get_suspended_by(self, token: CardToken) -> list[str]:
        return _parties(token)

    @extend_schema_field(serializers.BooleanField())
    def get_may_resume(self, token: CardToken) -> bool:
        return cardholder_may_resume(token)


class CardTokensSerializer(serializers.Serializer[Any]):
    """A card's tokens, newest first (removed ones too), and when the network last answered for the card."""

    card = CardBriefSerializer()
    checked_at = serializers.DateTimeField(
        source="check.checked_at",
        allow_null=True,
        default=None,
        help_text="When the card network last listed the card's tokens; null if never.",
    )
    last_check_failed = serializers.SerializerMethodField(
        help_text="Whether the network could not be asked the last time: the tokens are as of `checked_at`."
    )
    tokens = CardTokenSerializer(many=True)

    @extend_schema_field(serializers.BooleanField())
    def get_last_check_failed(self, data: dict[str, Any]) -> bool:
        check: CardTokenCheck | None = data["check"]
        return bool(check and check.failure)


class TokenRemoveSerializer(serializers.Serializer[Any]):
    everywhere = serializers.BooleanField(
        help_text=(
            "true: delete the token in the card network for good (nothing can pay with it any more); false: remove "
            "it from the device or merchant only, where the network keeps it for subscriptions."
        )
    )


class TokenChangeUncheckedSerializer(serializers.Serializer[Any]):
    """The network did not confirm the change in time: it may have made it. The portal asks again."""

    state = serializers.ChoiceField(choices=["being_checked"])
    message = serializers.CharField(help_text="For people: what happened and what to do.")
    token = CardTokenSerializer(help_text="As last recorded; the network's word replaces it once it answers.")


# --- Cardholder tokens ------------------------------------------------------------------------------------------------


class TokenIssuedSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown only in this answer.")
    expires_at = serializers.DateTimeField()
    pushes_until = serializers.DateTimeField(
        help_text=(
            "Until when the token may start pushes, and suspend, resume or remove the cards' tokens: as long as "
            "the step-up it was minted after is fresh, then a new step-up and a new token are needed. Reading goes "
            "on until `expires_at`; signing out of the browser session that minted it ends it."
        )
    )


# --- Landing links ----------------------------------------------------------------------------------------------------


class LandingLinkCreateSerializer(serializers.Serializer[Any]):
    card = serializers.UUIDField(help_text="A card of your program without a cardholder account.")
    purpose = serializers.ChoiceField(choices=LandingLink.Purpose.choices)
    recipient_phone = serializers.CharField(max_length=16, required=False, default="", allow_blank=True)
    recipient_email = serializers.CharField(max_length=254, required=False, default="", allow_blank=True)
    message = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    program_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=settings.LANDING_LINK_MAX_DAYS, required=False, allow_null=True, default=None
    )
    max_pushes = serializers.IntegerField(
        min_value=1, max_value=settings.LANDING_LINK_MAX_PUSHES, required=False, allow_null=True, default=None
    )
    deliver = serializers.BooleanField(
        default=False, help_text="Send the link to the recipient now (text message if possible, else e-mail)."
    )


class LandingLinkSerializer(serializers.Serializer[LandingLink]):
    id = serializers.UUIDField(source="public_id")
    card = CardBriefSerializer()
    purpose = serializers.ChoiceField(choices=LandingLink.Purpose.choices)
    status = serializers.SerializerMethodField()
    recipient_phone = serializers.SerializerMethodField(help_text="Last four digits only.")
    recipient_email = serializers.SerializerMethodField(help_text="Masked.")
    message = serializers.CharField()
    program_name = serializers.CharField()
    max_pushes = serializers.IntegerField()
    pushes_made = serializers.IntegerField(source="pushes_started")
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by_label")
    revoked_at = serializers.DateTimeField(allow_null=True)
    first_opened_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=LandingLink.Status.choices))
    def get_status(self, link: LandingLink) -> str:
        return str(link.status())

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_recipient_phone(self, link: LandingLink) -> str | None:
        return f"•••• {link.recipient_phone[-4:]}" if link.recipient_phone else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_recipient_email(self, link: LandingLink) -> str | None:
        return mask_email(link.recipient_email) if link.recipient_email else None


class LandingLinkMintedSerializer(LandingLinkSerializer):
    url = serializers.URLField(help_text="The link with its secret token: shown only in this answer.")
    delivered_by = serializers.ChoiceField(
        choices=["sms", "email"], allow_null=True, help_text="How the link was sent; null if not (asked or failed)."
    )


# --- Wallet requests --------------------------------------------------------------------------------------------------


class WalletRequestRequestorSerializer(serializers.Serializer[WalletRequest]):
    """The wallet or merchant asking; `type` and `logo` are null for one the portal does not know."""

    trid = serializers.CharField(source="record.trid", help_text="Token requestor id (11 digits), as MDES names it.")
    name = serializers.CharField(source="wallet_name")
    type = serializers.ChoiceField(
        source="record.token_requestor.requestor_type",
        choices=TokenRequestor.Type.choices,
        allow_null=True,
        default=None,
    )
    logo = serializers.SerializerMethodField()

    @extend_schema_field(LogoSerializer(allow_null=True))
    def get_logo(self, wallet_request: WalletRequest) -> dict[str, str | None] | None:
        requestor = wallet_request.record.token_requestor
        return _logo_urls(requestor.logo if requestor else None, self.context["request"])


class WalletRequestSerializer(serializers.Serializer[WalletRequest]):
    """A card typed into a wallet by hand, or saved by a merchant, that waits for the cardholder's answer (or did
    in the last days): MDES holds the token until the cardholder approves."""

    id = serializers.UUIDField(source="record.public_id")
    state = serializers.ChoiceField(
        source="view",
        choices=[view.value for view in WalletRequestView],
        help_text="waiting: answer by `expires_at`; expired: nobody answered in time; approved; declined.",
    )
    token_requestor = WalletRequestRequestorSerializer(source="*")
    device_name = serializers.SerializerMethodField(help_text="As the wallet named the device; null if none.")
    card = CardBriefSerializer(source="record.card")
    created_at = serializers.DateTimeField(source="record.created_at")
    expires_at = serializers.DateTimeField(source="record.expires_at")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_device_name(self, wallet_request: WalletRequest) -> str | None:
        return wallet_request.record.device_name or None
