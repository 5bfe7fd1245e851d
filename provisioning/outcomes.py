"""What happened to each card, in plain words for the cardholder."""

from dataclasses import dataclass

from django.utils import timezone

from provisioning.models import PushReceipt


@dataclass(frozen=True)
class Outcome:
    tone: str  # success, warning, failure, pending (for styling)
    heading: str
    text: str


def receipt_outcome(receipt: PushReceipt, requestor: str) -> Outcome:
    card = f"•••• {receipt.card.last_four}"
    if receipt.state == PushReceipt.State.REFUSED:
        return Outcome("failure", "Not added", f"Your card {card} cannot be added to {requestor} yet.")
    past_expiry = receipt.expires_at is not None and receipt.expires_at <= timezone.now()
    if receipt.state == PushReceipt.State.EXPIRED or (receipt.state == PushReceipt.State.ISSUED and past_expiry):
        # The sweep may not have marked it yet; expiry is a matter of time, not of the sweep.
        return Outcome(
            "failure", "Not added", f"The request for {card} expired before {requestor} used it. Please start again."
        )
    if receipt.state == PushReceipt.State.ISSUED:
        return Outcome(
            "pending", "Not finished", f"{requestor} has not told us yet what happened to {card}. Check {requestor}."
        )
    texts = {
        PushReceipt.Result.APPROVED: Outcome("success", "Added", f"Your card {card} is now in {requestor}."),
        PushReceipt.Result.DUPLICATE_REQUEST: Outcome(
            "success", "Already there", f"Your card {card} was already in {requestor}. Nothing changed."
        ),
        PushReceipt.Result.DECLINED: Outcome(
            "failure", "Not added", f"Adding {card} to {requestor} was declined. Contact us if you need help."
        ),
        PushReceipt.Result.CANCELLED: Outcome(
            "failure", "Not added", f"You cancelled adding {card} in {requestor}. You can try again at any time."
        ),
        PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION: Outcome(
            "warning",
            "One more step",
            f"{requestor} needs to check it is you before {card} can be used. Follow the steps in {requestor}, "
            "or call us and we will confirm it.",
        ),
        PushReceipt.Result.ERROR: Outcome(
            "failure", "Not added", f"Something went wrong at {requestor} with {card}. Please try again later."
        ),
    }
    return texts.get(
        receipt.result,  # type: ignore[call-overload]
        Outcome(
            "pending",
            "Unknown",
            f"{requestor} did not say what happened to {card}. Check {requestor}; if it is not there, try again.",
        ),
    )
