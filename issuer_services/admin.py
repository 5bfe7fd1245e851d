"""Staff see and change the decision rules (one row, every change audited) and read MDES's tokenization requests."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from audit.admin_mixins import AuditedAdminMixin, ReadOnlyAdmin
from issuer_services.models import ActivationCode, DecisionRules, TokenAlert, TokenizationRequest


@admin.register(DecisionRules)
class DecisionRulesAdmin(AuditedAdminMixin):
    fieldsets = (
        ("Pushes from the portal", {"fields": ("approve_pushes", "push_must_match", "push_match_minutes")}),
        ("Cards typed in by hand", {"fields": ("manual_decision", "new_device_step_up")}),
        (
            "The wallet's word",
            {
                "fields": (
                    "follow_wallet_decline",
                    "follow_wallet_step_up",
                    "approve_manual_on_wallet_approval",
                    "approve_min_device_score",
                    "approve_min_account_score",
                )
            },
        ),
        (
            "Scores and tokens (0 turns a rule off)",
            {
                "fields": (
                    "device_score_step_up_below",
                    "device_score_decline_below",
                    "account_score_step_up_below",
                    "account_score_decline_below",
                    "active_tokens_step_up_at",
                    "active_tokens_decline_at",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the one row is made on first use

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The list of one row is that row's form."""
        rules = DecisionRules.current()
        return self.change_view(request, str(rules.pk), form_url=self._change_url(rules), extra_context=extra_context)

    @staticmethod
    def _change_url(rules: DecisionRules) -> str:
        return reverse("admin:issuer_services_decisionrules_change", args=[rules.pk])


class ActivationCodeInline(admin.TabularInline):
    model = ActivationCode
    fields = ("origin", "channel", "sent_to_hint", "created_at", "expires_at", "sends", "attempts", "used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TokenizationRequest)
class TokenizationRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "consumer_facing_name", "card", "device_name", "decision", "state", "expires_at")
    list_filter = ("decision", "state", "source")
    search_fields = ("token_unique_reference", "correlation_id", "trid")
    list_select_related = ("card",)
    inlines = (ActivationCodeInline,)
    fields = (
        "token_unique_reference",
        "correlation_id",
        "request_id",
        "card",
        "trid",
        "consumer_facing_name",
        "wallet_id",
        "token_type",
        "source",
        "device_name",
        "device_form_factor",
        "device_os",
        "payment_app_instance_id",
        "wallet_recommendation",
        "device_score",
        "account_score",
        "active_tokens",
        "new_device",
        "decision",
        "reasons",
        "state",
        "activation_method",
        "created_at",
        "expires_at",
        "activated_at",
    )


@admin.register(TokenAlert)
class TokenAlertAdmin(ReadOnlyAdmin):
    """ "Was this you?" messages: whom the portal told of a token it did not push, and what they did with the link
    (each step is also in the audit trail)."""

    list_display = ("created_at", "token", "reason", "state", "channel", "sent_at", "used_at")
    list_filter = ("state", "reason", "channel")
    search_fields = ("token__token_unique_reference",)
    list_select_related = ("token",)
    fields = (
        "token",
        "reason",
        "state",
        "channel",
        "sent_to_hint",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "expires_at",
        "used_at",
    )
