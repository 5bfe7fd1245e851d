"""Read use cases of landing links."""

from dataclasses import dataclass
from datetime import datetime

from landing.models import LandingLink
from provisioning.models import PushReceipt
from provisioning.outcomes import Outcome, receipt_outcome
from provisioning.selectors import CONFIRMED_RESULTS


@dataclass(frozen=True)
class HistoryEntry:
    requestor: str
    at: datetime
    outcome: Outcome


def landing_link_history(link: LandingLink) -> list[HistoryEntry]:
    """What already happened to the link's card through this link: one entry per token requestor, newest first.
    Once the card was confirmed in a requestor, that stays its entry (a later attempt does not take it out again);
    otherwise the latest outcome."""
    receipts = (
        PushReceipt.objects.filter(push__landing__link=link, card=link.card)
        .select_related("card", "push__token_requestor")
        .order_by("push__created_at", "id")
    )
    chosen: dict[int, PushReceipt] = {}
    for receipt in receipts:
        earlier = chosen.get(receipt.push.token_requestor_id)
        if earlier is None or not (earlier.state == PushReceipt.State.USED and earlier.result in CONFIRMED_RESULTS):
            chosen[receipt.push.token_requestor_id] = receipt
    entries = [
        HistoryEntry(
            requestor=r.push.token_requestor.consumer_facing_name,
            at=r.used_at or r.push.created_at,
            outcome=receipt_outcome(r, r.push.token_requestor.consumer_facing_name),
        )
        for r in chosen.values()
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
