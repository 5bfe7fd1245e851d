from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from audit.admin_mixins import AuditedAdminMixin
from cardholders.models import Card, Cardholder, Program


@admin.register(Cardholder)
class CardholderAdmin(AuditedAdminMixin):
    list_display = ("__str__", "user", "phone_number", "preferred_locale", "created_at")
    search_fields = ("user__email", "user__last_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(Program)
class ProgramAdmin(AuditedAdminMixin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(Card)
class CardAdmin(AuditedAdminMixin):
    """Cards as staff may see them: first six and last four digits, never the number."""

    list_display = ("product_name", "masked_number", "product_kind", "program", "cardholder", "state", "expiry_display")
    list_filter = ("product_kind", "state", "program")
    search_fields = ("product_name", "last_four", "cardholder__user__email")
    list_select_related = ("cardholder__user",)
    fields = (
        "product_name",
        "product_kind",
        "masked_number",
        "expiry_month",
        "expiry_year",
        "cardholder",
        "program",
        "state",
        "card_art",
        "account_range_start",
        "number_key_id",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "masked_number",
        "expiry_month",
        "expiry_year",
        "account_range_start",
        "number_key_id",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ("cardholder",)
    actions = ("send_by_landing_link",)

    @admin.action(description="Send by landing link (gift, expense, emergency)", permissions=["mint_landing_link"])
    def send_by_landing_link(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one card to send by link.", messages.WARNING)
            return None
        card = queryset.get()
        return HttpResponseRedirect(reverse("admin:landing_landinglink_mint", args=[card.public_id]))

    def has_mint_landing_link_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("landing.add_landinglink")

    @admin.display(description="Card number")
    def masked_number(self, card: Card) -> str:
        return card.masked_number

    @admin.display(description="Expires")
    def expiry_display(self, card: Card) -> str:
        return card.expiry_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Cards come from the issuer's card system through `cardholders.services.card_create`, which seals the number.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
