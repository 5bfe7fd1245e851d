from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from audit.admin_mixins import AuditedAdminMixin, ReadOnlyAdmin
from audit.services import audit_event_record
from core.personal_data import mask_email
from provisioning import tasks
from provisioning.connection_test import network_configuration_test
from provisioning.models import (
    AccountRange,
    CardToken,
    ClickToPayConsent,
    JobRun,
    NetworkConfiguration,
    PushReceipt,
    PushRequest,
    TokenRequestor,
)
from provisioning.refresh import REFRESH_JOB, SYNCED_FIELDS
from provisioning.requestor_cache import token_requestors_changed
from provisioning.selectors import account_ranges_as_configured
from provisioning.token_admin import CardTokenAdmin

# What MDES says about a requestor; staff cannot change it (the next refresh would undo it anyway).
MDES_FIELDS = (
    "trid",
    *SYNCED_FIELDS,
    "supports_signature",
    "first_seen_at",
    "last_seen_at",
    "retired_at",
)


class TokenRequestorStaffForm(forms.ModelForm):
    """The staff-owned fields; `retired_at` is read-only here, so the rule that needs it is checked by hand."""

    class Meta:
        model = TokenRequestor
        fields = (
            "offered",
            "display_order",
            "receipts_separator",
            "signature_param_name",
            "complete_website_activation",
        )
        labels = {"complete_website_activation": "The wallet completes the activation"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("offered") and self.instance.retired_at is not None:
            raise forms.ValidationError(
                "MDES no longer lists this token requestor for your account ranges, so it cannot be offered."
            )
        return cleaned


@admin.register(TokenRequestor)
class TokenRequestorAdmin(AuditedAdminMixin):
    list_display = (
        "logo_thumbnail",
        "consumer_facing_name",
        "requestor_type",
        "push_method_types",
        "enabled_range_count",
        "supports_multiple_pushed_cards",
        "supports_signature",
        "last_seen_at",
        "is_retired",
        "offered",
        "display_order",
    )
    form = TokenRequestorStaffForm
    list_display_links = ("consumer_facing_name",)
    list_editable = ("offered", "display_order")
    list_filter = ("offered", "requestor_type", ("retired_at", admin.EmptyFieldListFilter))
    search_fields = ("consumer_facing_name", "name", "trid")
    ordering = ("display_order", "consumer_facing_name")
    readonly_fields = (*MDES_FIELDS, "logo_thumbnail", "enabled_range_list")
    fieldsets = (
        ("Shown to cardholders", {"fields": ("offered", "display_order", "logo_thumbnail")}),
        ("As MDES reports it", {"fields": (*MDES_FIELDS, "enabled_range_list")}),
        (
            "Activation",
            {
                "fields": ("complete_website_activation",),
                "description": (
                    "Off is streamlined activation: when a pushed card needs the cardholder's proof, the portal "
                    "activates the token itself on their return (they passed a second factor before the push), "
                    "and they see it added."
                ),
            },
        ),
        (
            "Redirect conventions",
            {
                "fields": ("receipts_separator", "signature_param_name"),
                "description": "Mastercard's readable material leaves these open; agree them with the token requestor.",
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[TokenRequestor]:
        return super().get_queryset(request).select_related("logo").prefetch_related("enabled_ranges")

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        return super().get_changelist_form(request, form=TokenRequestorStaffForm, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        token_requestors_changed()  # the change form and the list's editable columns both save here

    def get_urls(self) -> list[URLPattern]:
        refresh_url = path(
            "refresh/", self.admin_site.admin_view(self.refresh_view), name="provisioning_tokenrequestor_refresh"
        )
        return [refresh_url, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "can_refresh": self.has_change_permission(request),
            "last_refresh": JobRun.objects.filter(job=REFRESH_JOB).first(),
        }
        return super().changelist_view(request, extra_context=context)

    def refresh_view(self, request: HttpRequest) -> HttpResponse:
        """Enqueue a refresh (after the request's transaction commits) and return to the list."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        audit_event_record(action="token_requestor.refresh_requested", actor=request.user, request=request)
        tasks.refresh_token_requestors.delay_on_commit()
        messages.info(request, "A refresh from MDES was started. Its outcome appears above the list when it ends.")
        return HttpResponseRedirect(reverse("admin:provisioning_tokenrequestor_changelist"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requestors come from MDES (refresh), not from staff

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retired, never deleted: pushes refer to them

    @admin.display(description="Logo")
    def logo_thumbnail(self, requestor: TokenRequestor) -> str:
        if requestor.logo is None:
            return "—"
        url = reverse("provisioning:logo", args=[requestor.logo.asset_id, "png" if requestor.logo.png else "svg"])
        return format_html('<img src="{}" alt="{} logo" width="32" height="32">', url, requestor.consumer_facing_name)

    @admin.display(description="Push methods")
    def push_method_types(self, requestor: TokenRequestor) -> str:
        return ", ".join(method.get("type", "?") for method in requestor.push_methods) or "none"

    @admin.display(description="Enabled account ranges")
    def enabled_range_list(self, requestor: TokenRequestor) -> str:
        starts = [r.range_start for r in requestor.enabled_ranges.all()]
        return ", ".join(account_ranges_as_configured(starts)) or "—"

    @admin.display(description="Account ranges")
    def enabled_range_count(self, requestor: TokenRequestor) -> int:
        return len(requestor.enabled_ranges.all())

    @admin.display(description="Retired", boolean=True)
    def is_retired(self, requestor: TokenRequestor) -> bool:
        return requestor.retired_at is not None


class PushReceiptInline(admin.TabularInline):
    model = PushReceipt
    extra = 0
    can_delete = False
    fields = (
        "card_last_four",
        "push_account_id",
        "state",
        "receipt_hint",
        "expires_at",
        "used_at",
        "result",
        "activation",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PushReceipt]:
        return super().get_queryset(request).select_related("card")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Card")
    def card_last_four(self, receipt: PushReceipt) -> str:
        return f"•••• {receipt.card.last_four}"

    @admin.display(description="Error")
    def error(self, receipt: PushReceipt) -> str:
        return f"{receipt.error_code}: {receipt.error_description}" if receipt.error_code else ""


class ClickToPayConsentInline(admin.StackedInline):
    """What the cardholder agreed to before a push to Click to Pay (a digest of the data, never the data)."""

    model = ClickToPayConsent
    extra = 0
    can_delete = False
    fields = (
        "given_at",
        "text_version",
        "data_kinds",
        "data_digest",
        "country",
        "explicit_opt_in",
        "terms_url",
        "privacy_url",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PushRequest)
class PushRequestAdmin(ReadOnlyAdmin):
    """Pushes as they happened: read-only for everyone."""

    list_display = (
        "created_at",
        "masked_cardholder",
        "token_requestor",
        "channel",
        "device_environment",
        "state",
        "card_count",
        "returned_at",
    )
    list_filter = (
        "state",
        "channel",
        "device_environment",
        "token_requestor",
        ("created_at", admin.DateFieldListFilter),
    )
    date_hierarchy = "created_at"
    search_fields = ("public_id", "request_id")
    inlines = (PushReceiptInline, ClickToPayConsentInline)
    fields = (
        "public_id",
        "masked_cardholder",
        "token_requestor",
        "channel",
        "device_environment",
        "locale",
        "network_environment",
        "request_id",
        "state",
        "error_code",
        "error_description",
        "created_at",
        "pushed_at",
        "redirected_at",
        "returned_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PushRequest]:
        return (
            super()
            .get_queryset(request)
            .select_related("token_requestor", "cardholder__user")
            .prefetch_related("receipts")
        )

    @admin.display(description="Cardholder")
    def masked_cardholder(self, push: PushRequest) -> str:
        if push.cardholder is None:
            return "landing link"
        return mask_email(push.cardholder.user.email)

    @admin.display(description="Cards")
    def card_count(self, push: PushRequest) -> int:
        return len(push.receipts.all())


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    """Background job runs (refresh, expiry) and how they ended: read-only."""

    list_display = ("job", "state", "started_at", "finished_at", "detail")
    list_filter = ("job", "state")
    readonly_fields = ("job", "state", "started_at", "finished_at", "counts", "detail")
    fields = readonly_fields


class AccountRangeInline(admin.TabularInline):
    model = AccountRange
    extra = 1
    fields = ("start", "label")


@admin.register(NetworkConfiguration)
class NetworkConfigurationAdmin(AuditedAdminMixin):
    """The issuer's connection to MDES. Holds references to keys (paths, variable names), never the secrets."""

    list_display = ("name", "environment", "is_active", "base_url", "receipt_validity_minutes", "updated_at")
    list_filter = ("environment", "is_active")
    inlines = (AccountRangeInline,)
    fieldsets = (
        (
            None,
            {"fields": ("name", "is_active", "environment", "base_url", "customer_service_base_url", "consumer_key")},
        ),
        (
            "Keys (references only)",
            {
                "fields": (
                    "signing_key_path",
                    "signing_key_password_env",
                    "encryption_certificate_path",
                    "encryption_key_fingerprint",
                ),
                "description": "Paths and environment variable names. The keys and passwords themselves stay "
                "in files and in the environment of the servers, never in the database.",
            },
        ),
        (
            "Behaviour",
            {"fields": ("callback_base_url", "receipt_validity_minutes", "refresh_interval_days", "default_locale")},
        ),
    )

    actions = ("test_connection",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Pushes record the environment they used; deactivate a configuration instead of deleting it.
        return False

    @admin.action(description="Test the connection to MDES", permissions=["view"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[NetworkConfiguration]) -> None:
        for config in queryset:
            result = network_configuration_test(config=config, actor=request.user, request=request)
            self.message_user(
                request, f"{config.name}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
            )


admin.site.register(CardToken, CardTokenAdmin)
