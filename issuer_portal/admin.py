from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.admin_mixins import AuditedAdminMixin
from issuer_portal import services
from issuer_portal.models import AccountRange, NetworkConfiguration


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
        (None, {"fields": ("name", "is_active", "environment", "base_url", "consumer_key")}),
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
            result = services.network_configuration_test(config=config, actor=request.user, request=request)
            self.message_user(
                request, f"{config.name}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
            )
