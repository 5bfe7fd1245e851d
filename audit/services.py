"""Writing the audit trail. Every state change and every security-relevant action goes through here."""

from typing import Any

from django.db import models
from django.http import HttpRequest

from audit.models import AuditEvent
from core.card_numbers import mask_card_numbers_in
from core.client_ip import client_ip
from core.request_context import current_client_ip, current_request_id

SYSTEM = "system"


def _scrub(value: Any) -> Any:
    """Defence in depth: no card number reaches an audit row even if a caller passes one by mistake."""
    if isinstance(value, str):
        return mask_card_numbers_in(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def audit_event_record(
    *,
    action: str,
    actor: Any = None,
    actor_label: str | None = None,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if actor_label is None:
        actor_label = str(user) if user is not None else SYSTEM
    return AuditEvent.objects.create(
        actor=user,
        actor_label=mask_card_numbers_in(actor_label)[:254],
        action=action,
        outcome=outcome,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        before=_scrub(before),
        after=_scrub(after),
        detail=mask_card_numbers_in(detail)[:500],
        client_ip=client_ip(request) if request is not None else current_client_ip(),
        request_id=current_request_id(),
    )
