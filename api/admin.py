"""Staff manage the API's credentials: program managers' keys (created here, shown once) and cardholders' app
tokens (seen and revoked here, never created: a token needs the cardholder's own step-up).

Audited directly rather than with AuditedAdminMixin: these models' primary keys are the keys' hashes (longer than
an audit event's object id, and not for the trail); events name a key by its prefix, a token by its user.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from knox.models import AuthToken
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from api.models import ProgramApiKey
from audit.services import audit_event_record

# The library's generic keys scope nothing and no view accepts them: only program keys are offered.
admin.site.unregister(APIKey)
# Knox's own admin would let staff mint a token for any cardholder, bypassing the cardholder's step-up.
admin.site.unregister(AuthToken)


def _key_fields(key: ProgramApiKey) -> dict[str, Any]:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "program": key.program_id,
        "revoked": key.revoked,
        "expiry_date": key.expiry_date.isoformat() if key.expiry_date else None,
    }


@admin.register(ProgramApiKey)
class ProgramApiKeyAdmin(APIKeyModelAdmin):
    """Creating a key shows it once (the library's message); creation, changes and revocation are audited."""

    # The library's stubs type these as fixed-length tuples of its own values.
    list_display = ("prefix", "name", "program", "created", "expiry_date", "_has_expired", "revoked")  # type: ignore[assignment]
    list_filter = ("program", "revoked", "created")  # type: ignore[assignment]
    list_select_related = ("program",)
    search_fields = ("name", "prefix", "program__name")  # type: ignore[assignment]

    def save_model(self, request: HttpRequest, obj: Any, form: Any = None, change: bool = False) -> None:
        was_revoked = bool(change and ProgramApiKey.objects.filter(pk=obj.pk, revoked=True).exists())
        super().save_model(request, obj, form, change)
        action = "api.key_changed"
        if not change:
            action = "api.key_created"
        elif obj.revoked and not was_revoked:
            action = "api.key_revoked"
        audit_event_record(action=action, actor=request.user, after=_key_fields(obj), request=request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_event_record(action="api.key_deleted", actor=request.user, before=_key_fields(obj), request=request)
        super().delete_model(request, obj)


@admin.register(AuthToken)
class CardholderTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created", "expiry")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "created", "expiry")
    readonly_fields = ("user", "created", "expiry")
    actions = None  # deletion one at a time, through delete_model, so that each revocation is audited

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: AuthToken) -> None:
        audit_event_record(
            action="api.token_revoked_by_staff", actor=request.user, before={"user": obj.user_id}, request=request
        )
        super().delete_model(request, obj)
