"""Read use cases of landing links."""

from dataclasses import dataclass
from datetime import datetime

from landing.models import LandingLink
from provisioning.models import PushReceipt
from provisioning.outcomes import Outcome, receipt_outcome


@dataclass(frozen=True)
class HistoryEntry:
    requestor: str
    at: datetime
    outcome: Outcome


def landing_link_history(link: LandingLink) -> list[HistoryEntry]:
    """What already happened to the link's card through this link, newest first."""
    receipts = (
        PushReceipt.objects.filter(push__landing__link=link, card=link.card)
        .select_related("card", "push__token_requestor")
        .order_by("-push__created_at", "-id")
    )
    return [
        HistoryEntry(
            requestor=r.push.token_requestor.consumer_facing_name,
            at=r.used_at or r.push.created_at,
            outcome=receipt_outcome(r, r.push.token_requestor.consumer_facing_name),
        )
        for r in receipts
    ]
