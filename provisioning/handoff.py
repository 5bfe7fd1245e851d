"""Continue on the phone: a desktop session mints a link, shown as a QR code, that resumes the flow on a phone.

The token is 32 random bytes (URL-safe), stored only as a digest, valid 10 minutes, used once. Redeeming it
only tells where to resume; the phone still signs in, so a photographed code opens nothing by itself.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_record
from provisioning.models import HandoffLink
from users.models import User

LIFETIME = timedelta(minutes=10)
MAX_PER_WINDOW = 5
WINDOW = timedelta(minutes=10)


class HandoffLimitError(Exception):
    """Too many links asked for in a short time."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def handoff_link_create(*, user: User, target: str) -> str:
    recent = HandoffLink.objects.filter(user=user, created_at__gte=timezone.now() - WINDOW).count()
    if recent >= MAX_PER_WINDOW:
        raise HandoffLimitError
    token = secrets.token_urlsafe(32)
    link = HandoffLink.objects.create(
        token_digest=_digest(token), user=user, target=target, expires_at=timezone.now() + LIFETIME
    )
    audit_event_record(action="handoff.created", actor=user, target=link)
    return token


def handoff_link_redeem(*, token: str) -> HandoffLink | None:
    """The link's record if the token is valid, unused and unexpired (and from now on used); otherwise None."""
    now = timezone.now()
    with transaction.atomic():
        used = HandoffLink.objects.filter(token_digest=_digest(token), used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        link = HandoffLink.objects.filter(token_digest=_digest(token)).first() if used else None
    if link is not None:
        audit_event_record(action="handoff.used", actor_label=str(link.user), target=link)
    return link
