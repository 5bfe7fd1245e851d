"""The delivery log: staff read every delivery and its attempts; Operations replay (audited), Auditor only reads."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin_mixins import ReadOnlyAdmin
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import WebhookReplayError, webhook_delivery_replay


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "attempted_at", "status", "duration_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "delivery_id",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "event_type")
    search_fields = ("delivery_id", "event_id", "key")
    inlines = (WebhookAttemptInline,)
    actions = ("replay",)
    fields = (
        "delivery_id",
        "event_id",
        "event_type",
        "key",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "replay_of",
        "replayed_by_label",
        "created_at",
        "delivered_at",
    )

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.replay_webhookdelivery")

    @admin.action(description=_("Replay: send the selected events again (new delivery ids)"), permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed = 0
        for delivery in queryset.select_related("replay_of"):
            try:
                webhook_delivery_replay(delivery=delivery, actor=request.user)
            except WebhookReplayError as error:
                self.message_user(request, f"{delivery.delivery_id}: {error}", messages.ERROR)
            else:
                replayed += 1
        if replayed:
            message = ngettext("%(count)d event sent again.", "%(count)d events sent again.", replayed)
            self.message_user(request, message % {"count": replayed}, messages.SUCCESS)
